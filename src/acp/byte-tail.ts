import { decodeUtf8, leadingContinuationBytes } from '../lib/utf8.js'

/** The last `limit` bytes of a stream: it is always drained and the memory never grows past the limit (plus one chunk). */
export class ByteTail {
  #chunks: Buffer[] = []
  #bytes = 0
  #dropped = false
  readonly #limit: number

  constructor (limit: number) {
    this.#limit = Math.max(0, limit)
  }

  push (chunk: Buffer): void {
    this.#chunks.push(chunk)
    this.#bytes += chunk.length
    while (this.#chunks.length > 1 && this.#bytes - (this.#chunks[0] as Buffer).length >= this.#limit) {
      this.#bytes -= (this.#chunks.shift() as Buffer).length
      this.#dropped = true
    }
  }

  /** The last `limit` bytes, and whether anything before them was dropped. */
  bytes (): { bytes: Buffer, truncated: boolean } {
    const all = Buffer.concat(this.#chunks)
    if (all.length <= this.#limit) return { bytes: all, truncated: this.#dropped }
    return { bytes: all.subarray(all.length - this.#limit), truncated: true }
  }

  /** The tail as text, never starting inside a character when it was cut. */
  text (): string {
    const { bytes, truncated } = this.bytes()
    return decodeUtf8(truncated ? bytes.subarray(leadingContinuationBytes(bytes)) : bytes)
  }
}
