// Shapes shared by the job store, manager and views, and the one way to make a new record.
import type { PermissionPolicy } from '../acp/permissions.js'
import { FINISHED_STATUSES, type JobStatus } from '../contract/job-status.js'
import type { ShellKind } from '../sessions/shells.js'

export type { JobStatus }
export type JobMode = 'shell' | 'acp' | 'persistent_shell'

/** What an ACP job runs (POST /exec with mode "acp"). */
export interface AcpJobSpec {
  agent: string
  prompt: string
  sessionId: string | null
  model: string | null
  effort: string | null
  mode: string | null
  permissionPolicy: PermissionPolicy
  mcpServers: unknown[]
  /** Client services switched on or off (`capabilities`); absent: both on. */
  capabilities?: { fs?: boolean, terminal?: boolean }
  /** Write the JSON-RPC transcript to the job's `acp.ndjson`. */
  transcript?: boolean
  /** devpilot's `persistent_session_key` + `persistent_shell`: the agent's terminals run in this session. */
  persistentSession?: { sessionKey: string, shell: ShellKind, shellPath: string } | null
  /** A prompt of a warm ACP session (POST /acp/sessions/:id/prompts): its turn runs in that session. */
  warmSessionId?: string | null
}

/** What a persistent-shell job runs besides its command (POST /exec with mode "persistent_shell"). */
export interface SessionJobSpec {
  sessionKey: string
  /** The shell kind (bash, zsh, sh) and its executable on this machine. */
  shell: ShellKind
  shellPath: string
  bootstrapCommand: string
  bootstrapCurrentCommand: boolean
}

/** What an ACP job produced besides its output files (the session id is known early). */
export interface AcpOutcome {
  sessionId: string | null
  stopReason: string | null
  toolCalls: unknown[]
  error: string | null
  /** The prompt response's `usage`, when the agent sent one. */
  usage?: Record<string, unknown> | null
}

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
  /** Set for shell jobs run on a PTY (`tty: true`): the first window size. */
  tty?: { cols: number, rows: number }
  /** Set for ACP jobs only. */
  acp?: AcpJobSpec
  /** Set for persistent-shell jobs only; `workdir` and `env` then seed a new session. */
  session?: SessionJobSpec
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
  acp: AcpOutcome | null
}

/** The record of a job just accepted: pending, nothing run yet. */
export function newJobRecord (id: string, spec: JobSpec, idempotencyKey: string | null): JobRecord {
  return {
    id,
    mode: spec.acp ? 'acp' : spec.session ? 'persistent_shell' : 'shell',
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
    acp: null,
  }
}

/** True once the job has reached its final status (anything but pending or running). */
export function isFinished (job: Pick<JobRecord, 'status'>): boolean {
  return FINISHED_STATUSES.has(job.status)
}
