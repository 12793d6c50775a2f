// Byte-level helpers that keep UTF-8 characters whole when a buffer is cut anywhere.

const isContinuation = (byte: number): boolean => (byte & 0xc0) === 0x80

/** Bytes to skip at the start so the buffer does not begin inside a character (at most 3). */
export function leadingContinuationBytes (buf: Uint8Array): number {
  let n = 0
  while (n < 3 && n < buf.length && isContinuation(buf[n] as number)) n++
  return n
}

// Bytes a character starting with `lead` takes; 1 for bytes that cannot start a longer one.
const sequenceLength = (lead: number): number =>
  lead > 0xf4 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc2 ? 2 : 1

/** Length of the buffer without a character that is started but not finished at its end. */
export function completeLength (buf: Uint8Array): number {
  for (let back = 1; back <= Math.min(4, buf.length); back++) {
    const byte = buf[buf.length - back] as number
    if (isContinuation(byte)) continue
    if (byte < 0xc0) return buf.length
    return sequenceLength(byte) > back ? buf.length - back : buf.length
  }
  return buf.length
}

// Why: a U+FEFF read from the middle of a stream is data, not a byte-order mark to drop.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true })

/** Decodes UTF-8; invalid bytes become U+FFFD. */
export function decodeUtf8 (buf: Uint8Array): string {
  return decoder.decode(buf)
}
