import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import type { AcpLiveView } from '../acp/types.js'
import type { AcpEvent, Job } from '../contract/job.js'
import { isFinished, type JobRecord } from './types.js'

// Events a job view inlines (devpilot's number); the event log keeps them all.
export const INLINE_EVENTS = 500
// At most this much of the end of the event log is read for them.
const INLINE_EVENTS_MAX_BYTES = 8 * 1024 * 1024
const READ_CHUNK_BYTES = 64 * 1024

/** The last `count` events of an ACP job's event log (whole lines only, read from the end). */
export function readLastEvents (path: string, count: number, maxBytes = INLINE_EVENTS_MAX_BYTES): AcpEvent[] {
  let fd: number
  try { fd = openSync(path, 'r') } catch { return [] }
  try {
    const size = fstatSync(fd).size
    const chunks: Buffer[] = []
    let start = size
    let newlines = 0
    while (start > 0 && newlines <= count && size - start < maxBytes) {
      const length = Math.min(READ_CHUNK_BYTES, start)
      start -= length
      const chunk = Buffer.allocUnsafe(length)
      readSync(fd, chunk, 0, length, start)
      for (const byte of chunk) if (byte === 0x0a) newlines++
      chunks.unshift(chunk)
    }
    const lines = Buffer.concat(chunks).toString('utf8').split('\n')
    if (start > 0) lines.shift() // Why: the first line may be cut; it is older than what is kept anyway.
    return lines.filter((line) => line !== '').slice(-count).flatMap((line) => {
      // Why: a server killed in the middle of a write can leave half a line.
      try { return [JSON.parse(line) as AcpEvent] } catch { return [] }
    })
  } finally {
    closeSync(fd)
  }
}

/**
 * What a view reads of a running ACP job: the run's recorder, as `runAcpSession` hands it out
 * through `onLive` (the tool calls are not derived a second time from the events).
 */
export type AcpLiveFields = Pick<AcpLiveView, 'sessionId' | 'toolCalls'>

/** The ACP fields of a job view. */
export type AcpJobFields = Pick<Job, 'acpSessionId' | 'stopReason' | 'events' | 'toolCalls' | 'acpError' | 'usage'>

/** The ACP fields of a job view (devpilot's names), live while the job runs. */
export function acpFields (job: JobRecord, eventsPath: string, live: AcpLiveFields | undefined): AcpJobFields {
  // Why: a job that never got a result (lost in a restart, stopped with the server) still says why.
  const error = job.acp?.error ?? (isFinished(job) ? job.error : null)
  return {
    acpSessionId: live?.sessionId ?? job.acp?.sessionId ?? null,
    stopReason: job.acp?.stopReason ?? null,
    events: readLastEvents(eventsPath, INLINE_EVENTS),
    // Why the cast: the recorder keeps tool calls as ACP sent them (objects), typed unknown there.
    toolCalls: (live?.toolCalls ?? job.acp?.toolCalls ?? []) as NonNullable<Job['toolCalls']>,
    ...(error !== null ? { acpError: error } : {}),
    ...(job.acp?.usage ? { usage: job.acp.usage } : {}),
    // devpilot's field for a job whose terminals run in a persistent session (the key stays private).
    ...(job.spec.acp?.persistentSession ? { persistentShell: job.spec.acp.persistentSession.shell } : {}),
  }
}
