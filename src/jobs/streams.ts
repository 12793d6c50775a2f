import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import type { JobFiles } from '../exec/job-files.js'
import type { AcpEvent } from '../contract/job.js'
import type { JobEvent } from '../contract/events.js'
import { isFinished, type JobRecord } from './types.js'
import { completeLength, decodeUtf8 } from '../lib/utf8.js'

/** Where a stream of job events stands: bytes sent of each stream, lifecycle events sent, ACP event log bytes sent. */
export interface Cursor {
  stdout: number
  stderr: number
  lifecycle: number
  events: number
}

/** One event of a job, in the order a stream sends them; `id` resumes right after it (the wire contract's type). */
export type { JobEvent }

export type OutputEncoding = 'utf8' | 'base64'

export const START: Cursor = Object.freeze({ stdout: 0, stderr: 0, lifecycle: 0, events: 0 })

/**
 * Event ids are the cursor after the event: "<stdout bytes>.<stderr bytes>.<lifecycle events>",
 * plus ".<ACP event log bytes>" once an ACP event was sent.
 */
export function formatCursor (cursor: Cursor): string {
  const base = `${cursor.stdout}.${cursor.stderr}.${cursor.lifecycle}`
  return cursor.events > 0 ? `${base}.${cursor.events}` : base
}

/** Parses an event id (Last-Event-ID or ?since=); null when it is not one of ours. */
export function parseCursor (id: string): Cursor | null {
  const match = /^(\d{1,15})\.(\d{1,15})\.(\d{1,3})(?:\.(\d{1,15}))?$/.exec(id.trim())
  if (!match) return null
  return { stdout: Number(match[1]), stderr: Number(match[2]), lifecycle: Number(match[3]), events: Number(match[4] ?? 0) }
}

// Why: a server killed in the middle of a write can leave half a line; it is skipped.
function parseEventLine (line: string): AcpEvent | null {
  try { return JSON.parse(line) as AcpEvent } catch { return null }
}

/** The status events a job has gone through so far; a finished job adds its exit as the last one. */
function lifecycle (job: JobRecord): Array<Omit<JobEvent, 'id'>> {
  const events: Array<Omit<JobEvent, 'id'>> = [{ event: 'status', data: { status: 'pending', at: job.submittedAt } }]
  if (job.startedAt !== null) events.push({ event: 'status', data: { status: 'running', at: job.startedAt } })
  if (isFinished(job)) {
    events.push({ event: 'status', data: { status: job.status, at: job.finishedAt ?? job.startedAt ?? job.submittedAt } })
    events.push({ event: 'exit', data: { status: job.status, exitCode: job.exitCode, signal: job.signal, error: job.error } })
  }
  return events
}

// The job's output files (and ACP event log), opened once (when they exist) and read chunk by chunk.
class OutputFiles {
  readonly #paths: JobFiles
  readonly #fds: Partial<Record<'stdout' | 'stderr' | 'events', number>> = {}

  constructor (paths: JobFiles) {
    this.#paths = paths
  }

  /** Up to `maxBytes` from `offset`, never ending inside a character unless the stream is `final`. */
  read (stream: 'stdout' | 'stderr' | 'events', offset: number, maxBytes: number, final: boolean): Buffer | null {
    let fd = this.#fds[stream]
    if (fd === undefined) {
      try { fd = this.#fds[stream] = openSync(this.#paths[stream], 'r') } catch { return null }
    }
    const size = fstatSync(fd).size
    const length = Math.min(maxBytes, size - offset)
    if (length <= 0) return null
    const buf = Buffer.allocUnsafe(length)
    const read = readSync(fd, buf, 0, length, offset)
    const atEnd = offset + read >= size
    const keep = final && atEnd ? read : completeLength(buf.subarray(0, read))
    return keep > 0 ? buf.subarray(0, keep) : null
  }

  /** The whole lines of the event log from `offset` on (at least one, however long), or null. */
  readLines (offset: number, maxBytes: number): Buffer | null {
    for (let size = maxBytes; ; size *= 2) {
      const bytes = this.read('events', offset, size, true)
      if (!bytes) return null
      const end = bytes.lastIndexOf(0x0a)
      if (end !== -1) return bytes.subarray(0, end + 1)
      if (bytes.length < size) return null // a line still being written
    }
  }

  close (): void {
    for (const fd of Object.values(this.#fds)) closeSync(fd)
  }
}

/** What `followJob` needs: the job as stored now, its files, and a way to sleep until something changes. */
export interface FollowOptions {
  files: JobFiles
  getJob: () => JobRecord | undefined
  waitForChange: () => Promise<void>
  cursor: Cursor
  encoding: OutputEncoding
  chunkBytes: number
  signal: AbortSignal
}

/**
 * Yields a job's events from `cursor` on: lifecycle events, then output as the files grow, and
 * — only once the job has ended and every byte was yielded — its final status and `exit`.
 */
export async function * followJob (options: FollowOptions): AsyncGenerator<JobEvent> {
  const cursor = { ...options.cursor }
  const { encoding, chunkBytes, signal } = options
  const outputs = new OutputFiles(options.files)
  const nextSteps = function * (steps: Array<Omit<JobEvent, 'id'>>, upTo: number): Generator<JobEvent> {
    while (cursor.lifecycle < upTo) {
      const step = steps[cursor.lifecycle++] as Omit<JobEvent, 'id'>
      yield { ...step, id: formatCursor(cursor) } as JobEvent
    }
  }
  try {
    while (!signal.aborted) {
      const job = options.getJob()
      if (!job) return
      const finished = isFinished(job)
      const steps = lifecycle(job)
      yield * nextSteps(steps, finished ? steps.length - 2 : steps.length)
      // Drain what is there now; the job is looked up again only once nothing more can be read.
      for (let progressed = true; progressed && !signal.aborted;) {
        progressed = false
        for (const stream of ['stdout', 'stderr'] as const) {
          const bytes = outputs.read(stream, cursor[stream], chunkBytes, finished)
          if (!bytes) continue
          const offset = cursor[stream]
          cursor[stream] += bytes.length
          progressed = true
          const data = encoding === 'base64' ? bytes.toString('base64') : decodeUtf8(bytes)
          yield { id: formatCursor(cursor), event: 'output', data: { stream, offset, data } }
        }
        const lines = outputs.readLines(cursor.events, chunkBytes)
        if (lines) {
          progressed = true
          for (let start = 0; start < lines.length;) {
            const end = lines.indexOf(0x0a, start)
            const line = lines.subarray(start, end).toString('utf8')
            cursor.events += end + 1 - start
            start = end + 1
            const data = parseEventLine(line)
            if (data) yield { id: formatCursor(cursor), event: 'acp', data }
          }
        }
      }
      if (finished) {
        yield * nextSteps(steps, steps.length)
        return
      }
      await options.waitForChange()
    }
  } finally {
    outputs.close()
  }
}
