// A session command's life inside a Session: waiting in the queue, then running in the shell.
import { createHash } from 'node:crypto'
import type { Logger } from 'pino'
import { setLongTimeout, type LongTimer } from '../lib/long-timer.js'
import type { CommandFiles, ExitRecord } from './command-line.js'
import type { ExitWatch } from './exit-watch.js'
import { failedOutcome, outcomeOf, readExitRecord, SESSION_MESSAGES } from './outcomes.js'
import type { ShellProcess } from './shell-process.js'
import type { SessionOutcome, SessionRunCallbacks, SessionRunRequest } from './types.js'

/** A command accepted by a session and not yet handed to its shell. */
export interface QueuedRun { request: SessionRunRequest, callbacks: SessionRunCallbacks, timer: LongTimer | null, timedOut: boolean, cancelled: boolean, settled?: boolean }

/** The command the shell runs now (or was given by an earlier server): its marker and how its end is followed. */
export interface ActiveRun extends QueuedRun { marker: string, killing: Promise<void> | null, watch: ExitWatch | null, done: boolean, stuck: boolean }

/** The fields a queued run gains when it becomes active. */
export function activeFields (marker: string): Pick<ActiveRun, 'marker' | 'killing' | 'watch' | 'done' | 'stuck'> {
  return { marker, killing: null, watch: null, done: false, stuck: false }
}

/**
 * The command's marker: random to anyone without the session's secret, and the same for a later
 * server (which learns from it which exit record is this job's), with nothing more to write.
 */
export function commandMarker (secret: string, jobId: string): string {
  return createHash('sha256').update(`${secret}:${jobId}`).digest('hex').slice(0, 32)
}

/** The run's exit record, or null until its command is complete. */
export function readRunRecord (run: { marker: string, request: { files: CommandFiles } }): ExitRecord | null {
  return readExitRecord(run.request.files, run.marker)
}

/** How a running command ended: from its exit record, or (record null) why there is none. */
export function finishedOutcome (run: ActiveRun, record: ExitRecord | null, goneShell: ShellProcess | null): SessionOutcome {
  if (record) return outcomeOf(record, run.timedOut)
  if (run.stuck) return failedOutcome(SESSION_MESSAGES.shellStuck, run.timedOut, true, null, 'SIGKILL')
  // The status of a shell this server started (null for an adopted one: not our child).
  if (goneShell) return failedOutcome(SESSION_MESSAGES.shellExited(goneShell.exitStatus), run.timedOut, true, goneShell.exitStatus)
  return failedOutcome(SESSION_MESSAGES.lostWhileDown, run.timedOut, true)
}

/** Starts the run's timeout (none when `timeoutMs` is 0); `onTimeout` is called when it is over. */
export function armTimeout (run: QueuedRun, timeoutMs: number, onTimeout: (run: QueuedRun) => void): void {
  if (timeoutMs > 0) run.timer = setLongTimeout(() => { onTimeout(run) }, timeoutMs)
}

/** Tells the run's caller how it ended, once; stops its timeout. */
export function settleRun (run: QueuedRun, outcome: SessionOutcome, log: Logger): void {
  run.timer?.clear()
  if (run.settled === true) return
  run.settled = true
  try {
    run.callbacks.finished(outcome)
  } catch (err) {
    log.error({ err, jobId: run.request.jobId }, 'session finished callback failed')
  }
}
