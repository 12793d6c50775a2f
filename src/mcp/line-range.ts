import { completeLength, decodeUtf8 } from '../lib/utf8.js'

const NEWLINE = 0x0a

/** Lines `startLine`–`endLine` of a text read as a stream, as read_file returns them. */
export interface LineRange {
  /** The lines, joined with `\n` (a file's lines are its text split on `\n`). */
  content: string
  startLine: number
  /** The last line returned (the file's last line when the range runs past it). */
  endLine: number
  /** True when `maxBytes` cut the content before `endLine` was reached. */
  cut: boolean
}

/**
 * Collects lines `startLine`–`endLine` (1-based, inclusive) from a byte stream, reading no further
 * than `endLine` and keeping at most `maxBytes` of them: the lines before the range are only
 * counted, never kept, so a range deep in a big file costs a scan, not its size in memory. The cap
 * ends the content at the last whole line that fits (or inside the first line when that one alone
 * is longer, at a character boundary). Breaking out of `chunks` releases the stream.
 */
export async function readLineRange (chunks: AsyncIterable<Uint8Array>, startLine: number, endLine: number, maxBytes: number): Promise<LineRange> {
  const kept: Uint8Array[] = []
  let keptBytes = 0
  let line = 1
  let lastWhole = startLine - 1
  let wholeBytes = 0 // keptBytes at the end of the last whole line kept (its newline excluded)
  const keep = (bytes: Uint8Array): boolean => {
    const room = maxBytes - keptBytes
    const part = bytes.length <= room ? bytes : bytes.subarray(0, room)
    if (part.length > 0) kept.push(part)
    keptBytes += part.length
    return part.length === bytes.length
  }
  const finish = (cut: boolean, last: number): LineRange => {
    const all = Buffer.concat(kept)
    // Cut: end at the last whole line kept, or, when not even one fit, inside the first line.
    const bytes = !cut ? all : lastWhole >= startLine ? all.subarray(0, wholeBytes) : all.subarray(0, completeLength(all))
    return { content: decodeUtf8(bytes), startLine, endLine: cut ? Math.max(lastWhole, startLine) : last, cut }
  }
  for await (const chunk of chunks) {
    let at = 0
    while (at < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, at)
      const stop = newline === -1 ? chunk.length : newline
      if (line >= startLine && !keep(chunk.subarray(at, stop))) return finish(true, line)
      if (newline === -1) break
      if (line >= endLine) return finish(false, line)
      if (line >= startLine) {
        lastWhole = line
        wholeBytes = keptBytes
        if (!keep(Uint8Array.of(NEWLINE))) return finish(true, line)
      }
      line++
      at = newline + 1
    }
  }
  // The text after the last newline is the last line (empty when the file ends with a newline).
  return finish(false, Math.min(line, endLine))
}
