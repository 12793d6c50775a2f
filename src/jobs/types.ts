// Shapes shared by the job store, manager and views, and the one way to make a new record.

export type JobStatus = 'pending' | 'running' | 'completed' | 'failed' | 'timeout' | 'cancelled'
export type JobMode = 'shell'

/** What the job runs and under which limits; fixed at submission. */
export interface JobSpec {
  command: string
  shell: string
  workdir: string
  env: Record<string, string>
  timeoutSec: number
  idleTimeoutSec: number
  stdin: string | null
  stdinEof: boolean
}

/** One job as the store keeps it. Times are epoch seconds (fractional). */
export interface JobRecord {
  id: string
  mode: JobMode
  spec: JobSpec
  status: JobStatus
  submittedAt: number
  startedAt: number | null
  finishedAt: number | null
  pid: number | null
  pidStartTime: string | null
  exitCode: number | null
  signal: string | null
  timedOut: boolean
  error: string | null
  idempotencyKey: string | null
}

/** How a job's process ended, before it is turned into a status. */
export interface ExitInfo {
  exitCode: number | null
  signal: string | null
  error: string | null
}

/** The record of a job just accepted: pending, nothing run yet. */
export function newJobRecord (id: string, spec: JobSpec, idempotencyKey: string | null): JobRecord {
  return {
    id,
    mode: 'shell',
    spec,
    status: 'pending',
    submittedAt: Date.now() / 1000,
    startedAt: null,
    finishedAt: null,
    pid: null,
    pidStartTime: null,
    exitCode: null,
    signal: null,
    timedOut: false,
    error: null,
    idempotencyKey,
  }
}

/** True once the job has reached its final status (anything but pending or running). */
export function isFinished (job: Pick<JobRecord, 'status'>): boolean {
  return job.status !== 'pending' && job.status !== 'running'
}
