// How a job ended, turned into what its record says: the one place a job's status, exit code,
// signal and error text are decided. Pure functions, no I/O.
import { constants } from 'node:os'
import type { AcpResult } from '../acp/types.js'
import type { ProcessEnd } from '../exec/process-end.js'
import { signalName } from '../exec/process-group.js'
import type { SessionOutcome } from '../sessions/types.js'
import type { AcpOutcome, JobMode, JobSpec, JobStatus } from './types.js'

/** Why a running job was asked to end. */
export type KillReason = 'cancel' | 'timeout' | 'idle' | 'shutdown'

/** Signals that ask a job to end: sending one through the API makes the job end `cancelled`. */
export const ENDING_SIGNALS: ReadonlySet<string> = new Set(['SIGTERM', 'SIGINT', 'SIGKILL', 'SIGHUP', 'SIGQUIT', 'SIGABRT'])

// Stop reasons that end an ACP job `completed` with exit code 0 (devpilot's mapping).
const SUCCESS_STOP_REASONS: ReadonlySet<string> = new Set(['end_turn', 'no_prompt'])

/** How a job ended, as its kind (or the manager) reports it. */
export type JobEnd =
  /** A process-backed job's process is gone; `reason` is why this server asked it to end, if it did. */
  | { type: 'process', end: ProcessEnd, reason: KillReason | null }
  /** An ACP run returned; `reason` is the kill reason the job was given, if any. */
  | { type: 'acp', result: AcpResult, reason: KillReason | null }
  /** A persistent-shell command ended, as its session reports it; `reason` is the kill reason it was given, if any. */
  | { type: 'session', outcome: SessionOutcome, reason: KillReason | null }
  /** At start-up: the job was running under an earlier server and is gone without a status. */
  | { type: 'lost', mode: JobMode | 'tty' }
  /** The job's kind could not start it. */
  | { type: 'start-failed', message: string }
  /** A pending job that never started: cancelled by a kill, or the server stopped. */
  | { type: 'not-started', why: 'cancelled' | 'server-stopped' }

/** Exit data of a job before it is turned into a status. */
export interface ExitInfo {
  exitCode: number | null
  signal: string | null
  error: string | null
}

/** What a job's record says once it has ended. */
export interface JobOutcome extends ExitInfo {
  status: JobStatus
  timedOut: boolean
  /** ACP jobs: what the run produced besides its output files. */
  acp?: AcpOutcome
}

const LOST_ERRORS: Record<JobMode | 'tty', string> = {
  shell: 'lost: the server stopped while this job ran and its process is gone',
  acp: 'lost: the server stopped while this ACP job ran, and ACP sessions cannot survive a restart',
  persistent_shell: "lost: the server stopped while this command ran and its session's shell is gone",
  tty: 'lost: the server stopped while this tty job ran, and a job on a terminal cannot outlive the server that holds the terminal',
}
const VANISHED_ERROR = 'the job ended while no server was running and left no exit status'

/** A shell-style status as exit data: above 128 means the command died of signal status - 128. */
export function exitInfoFromStatus (status: number): ExitInfo {
  return { exitCode: status, signal: status > 128 ? signalName(status - 128) ?? null : null, error: null }
}

/** The exit data of a process-backed job's end. */
export function exitInfoOfProcess (end: ProcessEnd): ExitInfo {
  switch (end.type) {
    case 'status': return exitInfoFromStatus(end.status)
    case 'signal': return { exitCode: 128 + constants.signals[end.signal], signal: end.signal, error: null }
    case 'output-files-failed': return { exitCode: null, signal: null, error: `could not open the job's output files (${end.path})` }
    case 'killed': return { exitCode: 128 + constants.signals.SIGKILL, signal: 'SIGKILL', error: null }
    case 'vanished': return { exitCode: null, signal: null, error: VANISHED_ERROR }
  }
}

// Why: devpilot's mapping: end_turn / no_prompt → exit 0, anything else (timeout included) → exit 1.
/** The exit data of an ACP run. */
export function exitInfoOfAcp (result: AcpResult): ExitInfo {
  const ok = result.error === null && SUCCESS_STOP_REASONS.has(result.stopReason)
  return { exitCode: ok ? 0 : 1, signal: null, error: result.error }
}

/** Why an ACP run ended early, if it did: its own limits first, then the kill reason it was given. */
export function killReasonOfAcp (result: AcpResult, killReason: KillReason | null): KillReason | null {
  if (result.timeout === 'total') return 'timeout'
  if (result.timeout === 'idle') return 'idle'
  return result.aborted ? killReason ?? 'cancel' : null
}

/** The status an ended job gets from its exit data and the reason it was asked to end. */
export function statusOf (info: ExitInfo, reason: KillReason | null): JobStatus {
  if (reason === 'timeout' || reason === 'idle') return 'timeout'
  if (reason === 'cancel' || reason === 'shutdown') return 'cancelled'
  return info.exitCode === 0 ? 'completed' : 'failed'
}

/** The error text of an ended job: the limit or stop that ended it, else its own. */
export function errorOf (info: ExitInfo, reason: KillReason | null, spec: Pick<JobSpec, 'timeoutSec' | 'idleTimeoutSec'>): string | null {
  if (reason === 'timeout') return `timed out after ${spec.timeoutSec} s`
  if (reason === 'idle') return `no output for ${spec.idleTimeoutSec} s`
  if (reason === 'shutdown') return 'server stopped'
  return info.error
}

/** Everything the record of an ended job says, from how it ended. */
export function outcomeOf (end: JobEnd, spec: Pick<JobSpec, 'timeoutSec' | 'idleTimeoutSec'>): JobOutcome {
  switch (end.type) {
    case 'process':
    case 'acp': {
      const info = end.type === 'process' ? exitInfoOfProcess(end.end) : exitInfoOfAcp(end.result)
      const reason = end.type === 'process' ? end.reason : killReasonOfAcp(end.result, end.reason)
      const status = statusOf(info, reason)
      return {
        status,
        exitCode: info.exitCode,
        signal: info.signal,
        error: errorOf(info, reason, spec),
        timedOut: status === 'timeout',
        ...(end.type === 'acp' ? { acp: acpOutcomeOf(end.result) } : {}),
      }
    }
    case 'session': return sessionOutcome(end.outcome, end.reason, spec)
    case 'lost': return failed(LOST_ERRORS[end.mode])
    case 'start-failed': return failed(`cannot start the job: ${end.message}`)
    case 'not-started':
      return { status: 'cancelled', exitCode: null, signal: null, timedOut: false, error: end.why === 'cancelled' ? 'cancelled before it started' : 'server stopped' }
  }
}

/** What an ACP run left on the job's record besides its status. */
export function acpOutcomeOf (result: AcpResult): AcpOutcome {
  return { sessionId: result.sessionId, stopReason: result.stopReason, toolCalls: result.toolCalls, error: result.error, ...(result.usage ? { usage: result.usage } : {}) }
}

/**
 * A session command's record: its own `$?` (signals as 128 + n), its session's timeout, or the
 * kill reason it was given; the session's own messages (shell exited, bootstrap failed, session
 * ended) are kept as the error unless a limit or stop explains the end better.
 */
export function sessionOutcome (outcome: SessionOutcome, killReason: KillReason | null, spec: Pick<JobSpec, 'timeoutSec' | 'idleTimeoutSec'>): JobOutcome {
  const info: ExitInfo = { exitCode: outcome.exitCode, signal: outcome.signal, error: outcome.error }
  const reason = outcome.timedOut ? 'timeout' : killReason
  const status = statusOf(info, reason)
  // Why: a shell that had to be ended after a timeout or stop says so besides the limit's text.
  const error = reason !== null && reason !== 'cancel' && outcome.shellRestarted && outcome.error !== null
    ? `${errorOf(info, reason, spec) as string}; ${outcome.error}`
    : errorOf(info, reason, spec)
  return { status, exitCode: info.exitCode, signal: info.signal, error, timedOut: status === 'timeout' }
}

function failed (error: string): JobOutcome {
  return { status: 'failed', exitCode: null, signal: null, error, timedOut: false }
}
