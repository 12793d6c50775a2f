// Request and response shapes of the HTTP API, as the client sees them (docs/api.md).

export type JobStatus = 'pending' | 'running' | 'completed' | 'failed' | 'timeout' | 'cancelled'

/** POST /exec in shell mode. */
export interface ShellJobRequest {
  command: string
  workdir?: string
  timeout?: number
  idleTimeout?: number
  env?: Record<string, string>
  stdin?: string
  stdinEof?: boolean
  shell?: string
}

/** POST /exec in ACP mode. */
export interface AcpJobRequest {
  prompt: string
  agent?: string
  workdir?: string
  timeout?: number
  idleTimeout?: number
  env?: Record<string, string>
  acp_session_id?: string
  model?: string
  effort?: string
  acpMode?: string
  permissionPolicy?: 'deny' | 'read-only' | 'workdir' | 'allow-all' | 'ask'
  mcpServers?: unknown[]
  persistent_session_key?: string
  persistent_shell?: string
}

/** POST /exec in persistent-shell mode: one command in a named session (devpilot's fields). */
export interface SessionJobRequest {
  sessionKey: string
  command: string
  /** bash, zsh, sh (dash), or devpilot's aliases; default bash. */
  shell?: string
  bootstrapCommand?: string
  bootstrapCurrentCommand?: boolean
  /** Seed a new session only. */
  workdir?: string
  env?: Record<string, string>
  timeout?: number
  idleTimeout?: number
}

/** A persistent shell session as GET /sessions shows it: devpilot's info object plus cwd, pid and jobs. */
export interface SessionInfo {
  sessionKey: string
  shell: string
  status: 'running' | 'idle' | 'stopped'
  createdAt: number
  lastUsedAt: number
  lastOutputAt: number | null
  processAlive: boolean
  activeCommand: boolean
  cwd: string | null
  pid: number | null
  jobId: string | null
  queuedJobIds: string[]
}

export interface SubmitResult {
  jobId: string
  status: JobStatus
}

/** A job as GET /jobs/:id returns it. */
export interface Job {
  jobId: string
  status: JobStatus
  mode: string
  command: string
  workdir: string
  submittedAt: number
  startedAt: number | null
  finishedAt: number | null
  lastOutputAt: number | null
  processAlive: boolean
  pid: number | null
  exitCode: number | null
  signal: string | null
  durationMs: number | null
  timedOut: boolean
  error?: string
  queuePosition?: number
  stdout: string
  stderr: string
  stdoutBytes: number
  stderrBytes: number
  stdoutTruncated: boolean
  stderrTruncated: boolean
  stdoutOffset?: number
  stderrOffset?: number
  /** ACP jobs only (devpilot's names). */
  acpSessionId?: string | null
  stopReason?: string | null
  events?: AcpEvent[]
  toolCalls?: Array<Record<string, unknown>>
  acpError?: string
  /** Persistent-shell jobs only. */
  sessionKey?: string
  shell?: string
  /** ACP jobs whose terminals run in a persistent session: the shell kind (devpilot's field). */
  persistentShell?: string
}

/** One event of an ACP job (in `events` of the job, and as `acp` events of the stream). */
export interface AcpEvent {
  type: string
  timestamp: number
  data: Record<string, unknown>
}

/** Every key a job object can carry; a test checks it against what the server sends. */
export const JOB_KEYS: ReadonlyArray<keyof Job> = [
  'jobId', 'status', 'mode', 'command', 'workdir', 'submittedAt', 'startedAt', 'finishedAt', 'lastOutputAt',
  'processAlive', 'pid', 'exitCode', 'signal', 'durationMs', 'timedOut', 'error', 'queuePosition',
  'stdout', 'stderr', 'stdoutBytes', 'stderrBytes', 'stdoutTruncated', 'stderrTruncated', 'stdoutOffset', 'stderrOffset',
  'acpSessionId', 'stopReason', 'events', 'toolCalls', 'acpError', 'sessionKey', 'shell', 'persistentShell',
]

export interface JobQuery {
  tailLines?: number
  stdoutOffset?: number
  stderrOffset?: number
}

/** One event of GET /jobs/:id/events. */
export type JobEvent =
  | { id: string, event: 'status', data: { status: JobStatus, at: number } }
  | { id: string, event: 'output', data: { stream: 'stdout' | 'stderr', offset: number, data: string } }
  | { id: string, event: 'acp', data: AcpEvent }
  | { id: string, event: 'exit', data: { status: JobStatus, exitCode: number | null, signal: string | null, error: string | null } }

export type NudgeResult = { nudged: true, processAlive: true } | { nudged: false, reason: string, processAlive: boolean }

export interface Health {
  status: 'ok'
  authenticated: boolean
  version?: string
  hostname?: string
  jobs?: number
  [field: string]: unknown
}
