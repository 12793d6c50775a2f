// Shapes shared by the session pool, a session and its callers (the jobs' session kind).
import type { CommandFiles } from './command-line.js'
import type { SessionRequest } from './request.js'
import type { ShellKind } from './shells.js'

/** How a session command ended; the caller turns it into a job status. */
export interface SessionOutcome {
  /** The command's `$?` (a signal shows as 128 + n); null when no status exists. */
  exitCode: number | null
  /** The signal's name when the status says the command died of one. */
  signal: string | null
  /** Set when the command did not end normally (shell exited, bootstrap failed, cancelled, session ended). */
  error: string | null
  /** True when the run's own timeout ended it. */
  timedOut: boolean
  /** True when the session's shell was gone after this command (the next command starts a new one). */
  shellRestarted: boolean
}

/** What a command's caller hears; both callbacks are called at most once and never throw out. */
export interface SessionRunCallbacks {
  /** The command was written to the shell: `pid` is the shell (also the process group and session id). */
  started: (info: { pid: number, startTime: string | null, startedAt: number }) => void
  finished: (outcome: SessionOutcome) => void
}

/** One command for a session, as the jobs' session kind hands it over: the checked request, its job and files. */
export interface SessionRunRequest extends Omit<SessionRequest, 'timeoutSec'> {
  jobId: string
  files: CommandFiles
  /** 0 = no limit. Counted from the moment the command is handed over (time queued counts, as in devpilot). */
  timeoutMs: number
}

/** devpilot's session info object (§1.9), plus the shell's cwd, pid and the running and queued jobs. */
export interface SessionInfo {
  sessionKey: string
  shell: ShellKind
  status: 'running' | 'idle' | 'stopped'
  /** Epoch seconds: when the current shell started (when the session was created, if none runs). */
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

/** A running session job that a restarted server hands back (from its job records). */
export interface ReAdoptEntry {
  jobId: string
  sessionKey: string
  files: CommandFiles
  callbacks: SessionRunCallbacks
  /** Milliseconds left of its timeout; 0 = none. */
  timeoutMs: number
}

/** An error of a session run that devpilot reported as a failed job (the caller may answer 4xx instead). */
export class SessionRunError extends Error {
  readonly code: 'SESSION_LIMIT' | 'SESSION_SHELL_MISMATCH' | 'SESSION_CLOSED'
  constructor (code: SessionRunError['code'], message: string) {
    super(message)
    this.code = code
  }
}
