import { closeSync, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs'
import type { OpenFiles } from './open-files.js'
import { completeLength, decodeUtf8, leadingContinuationBytes } from '../lib/utf8.js'

/** A stream's output as inlined in a job: text plus the numbers a client needs to page. */
export interface InlineOutput {
  text: string
  /** Total bytes in the stream so far. */
  bytes: number
  /** True when `text` is not the whole stream (cut to the inline cap, to `tailLines`, or more follows `offset`). */
  truncated: boolean
  /** The byte offset just after `text`, for the next incremental read. */
  nextOffset: number
  /** When the stream last grew (epoch seconds), or null while it is empty. */
  lastWriteAt: number | null
}

export interface ReadOptions {
  maxBytes: number
  /** True when the stream can grow no more, so a cut character at the end is invalid rather than unfinished. */
  final: boolean
  /** Return bytes from this offset on (incremental polling) instead of the end of the stream. */
  offset?: number | undefined
  /** Return only the last N lines. */
  tailLines?: number | undefined
}

function readRange (fd: number, start: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length)
  let done = 0
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, start + done)
    if (n === 0) break
    done += n
  }
  return buf.subarray(0, done)
}

function lastLines (text: string, count: number): { text: string, cut: boolean } {
  if (count === 0) return { text: '', cut: text.length > 0 }
  let index = text.endsWith('\n') ? text.length - 1 : text.length
  for (let seen = 0; seen < count; seen++) {
    if (index <= 0) return { text, cut: false }
    index = text.lastIndexOf('\n', index - 1)
    if (index === -1) return { text, cut: false }
  }
  return { text: text.slice(index + 1), cut: true }
}

function fromOffset (fd: number, size: number, options: ReadOptions): InlineOutput {
  const start = Math.min(options.offset ?? 0, size)
  const raw = readRange(fd, start, Math.min(options.maxBytes, size - start))
  const atEnd = start + raw.length >= size
  const keep = atEnd && options.final ? raw.length : completeLength(raw)
  const nextOffset = start + keep
  return { text: decodeUtf8(raw.subarray(0, keep)), bytes: size, truncated: nextOffset < size, nextOffset, lastWriteAt: null }
}

function fromEnd (fd: number, size: number, options: ReadOptions): InlineOutput {
  const start = Math.max(0, size - options.maxBytes)
  let raw = readRange(fd, start, size - start)
  const keep = options.final ? raw.length : completeLength(raw)
  raw = raw.subarray(0, keep)
  const skip = start > 0 ? leadingContinuationBytes(raw) : 0
  let text = decodeUtf8(raw.subarray(skip))
  let truncated = start > 0
  if (options.tailLines !== undefined) {
    const tail = lastLines(text, options.tailLines)
    text = tail.text
    truncated ||= tail.cut
  }
  return { text, bytes: size, truncated, nextOffset: start + keep, lastWriteAt: null }
}

function readFrom (fd: number, stat: Pick<Stats, 'size' | 'mtimeMs'> | undefined, options: ReadOptions): InlineOutput {
  if (!stat || stat.size === 0) return { text: '', bytes: 0, truncated: false, nextOffset: 0, lastWriteAt: null }
  const output = options.offset !== undefined ? fromOffset(fd, stat.size, options) : fromEnd(fd, stat.size, options)
  output.lastWriteAt = stat.mtimeMs / 1000
  return output
}

/**
 * Reads a job's stream for inlining: the end (capped), the last lines, or the bytes after an offset.
 * With `files`, the file's descriptor is kept open for the next read.
 */
export function readInline (path: string, options: ReadOptions, files?: OpenFiles): InlineOutput {
  if (files) {
    const fd = files.fd(path)
    return fd === undefined ? readFrom(-1, undefined, options) : readFrom(fd, fstatSync(fd), options)
  }
  // Why: most streams are empty; one stat answers for them without opening the file.
  const stat = statSync(path, { throwIfNoEntry: false })
  if (!stat || stat.size === 0) return readFrom(-1, undefined, options)
  const fd = openSync(path, 'r')
  try {
    return readFrom(fd, stat, options)
  } finally {
    closeSync(fd)
  }
}

/** When any of the files last grew (epoch seconds), or null when all are empty or missing. */
export function lastWriteAt (paths: readonly string[]): number | null {
  let latest: number | null = null
  for (const path of paths) {
    try {
      const stat = statSync(path)
      if (stat.size > 0 && (latest === null || stat.mtimeMs > latest * 1000)) latest = stat.mtimeMs / 1000
    } catch { /* not created yet */ }
  }
  return latest
}
