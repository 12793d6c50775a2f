import type { Job } from '../contract/job.js'
import type { JobFiles } from '../exec/job-files.js'
import type { OpenFiles } from '../output/open-files.js'
import { readInline, type InlineOutput } from '../output/read.js'
import { nowSeconds } from '../lib/clock.js'
import type { AcpLiveState } from './acp-runner.js'
import { acpFields } from './acp-view.js'
import { isFinished, type JobRecord } from './types.js'

/** How much output a job view inlines, and from where. */
export interface OutputSelection {
  maxBytes: number
  tailLines?: number | undefined
  stdoutOffset?: number | undefined
  stderrOffset?: number | undefined
}

/** What the view needs to know that the record does not hold. */
export interface LiveState {
  processAlive: boolean
  queuePosition: number | undefined
  /** A running ACP job's session id and tool calls so far. */
  acp?: AcpLiveState | undefined
}

/** The fields of a job view about one output stream: `stdout`, `stdoutBytes`, `stdoutTruncated`, maybe `stdoutOffset`. */
type StreamFields<N extends 'stdout' | 'stderr'> = Pick<Job, N | `${N}Bytes` | `${N}Truncated` | `${N}Offset`>

function streamFields<N extends 'stdout' | 'stderr'> (name: N, output: InlineOutput, withOffset: boolean): StreamFields<N> {
  // Why the cast: TypeScript types keys built from a template as plain strings.
  const fields: Record<string, unknown> = {
    [name]: output.text,
    [`${name}Bytes`]: output.bytes,
    [`${name}Truncated`]: output.truncated,
    ...(withOffset ? { [`${name}Offset`]: output.nextOffset } : {}),
  }
  return fields as StreamFields<N>
}

/**
 * The job as GET /jobs/:id shows it: devpilot's keys (ACP ones included) plus output totals,
 * truncation and queue data. `openFiles` keeps the output files open for the next read.
 */
export function jobView (job: JobRecord, files: JobFiles, select: OutputSelection, live: LiveState, openFiles?: OpenFiles): Job {
  const final = isFinished(job)
  const read = (path: string, offset: number | undefined): InlineOutput =>
    readInline(path, { maxBytes: select.maxBytes, final, offset, tailLines: select.tailLines }, openFiles)
  const withOffsets = select.stdoutOffset !== undefined || select.stderrOffset !== undefined
  const stdout = read(files.stdout, select.stdoutOffset ?? (withOffsets ? 0 : undefined))
  const stderr = read(files.stderr, select.stderrOffset ?? (withOffsets ? 0 : undefined))
  const end = job.finishedAt ?? (job.startedAt === null ? null : nowSeconds())
  return {
    jobId: job.id,
    status: job.status,
    mode: job.mode,
    command: job.spec.command,
    workdir: job.spec.workdir,
    submittedAt: job.submittedAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    lastOutputAt: job.startedAt === null ? null : Math.max(job.startedAt, stdout.lastWriteAt ?? 0, stderr.lastWriteAt ?? 0),
    processAlive: live.processAlive,
    pid: job.pid,
    exitCode: job.exitCode,
    signal: job.signal,
    durationMs: job.startedAt === null || end === null ? null : Math.round((end - job.startedAt) * 1000),
    timedOut: job.timedOut,
    ...(job.error !== null ? { error: job.error } : {}),
    ...(live.queuePosition !== undefined ? { queuePosition: live.queuePosition } : {}),
    ...streamFields('stdout', stdout, withOffsets),
    ...streamFields('stderr', stderr, withOffsets),
    ...(job.mode === 'acp' ? acpFields(job, files.events, live.acp) : {}),
    ...(job.spec.tty ? { tty: true as const } : {}),
    ...(job.spec.session ? { sessionKey: job.spec.session.sessionKey, shell: job.spec.session.shell } : {}),
  }
}
