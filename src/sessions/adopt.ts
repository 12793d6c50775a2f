// Re-adoption: a session of a restarted server takes over the shell and the commands the earlier server left.
import { existsSync } from 'node:fs'
import type { Logger } from 'pino'
import { commandScriptPath } from './command-line.js'
import type { CommandRunner } from './command-runner.js'
import { failedOutcome, outcomeOf, SESSION_MESSAGES } from './outcomes.js'
import { activeFields, armTimeout, commandMarker, readRunRecord, settleRun, type ActiveRun, type QueuedRun } from './runs.js'
import type { SessionShell } from './session-shell.js'
import type { SessionState } from './state-file.js'
import type { ReAdoptEntry, SessionRunRequest } from './types.js'

/** The parts of a session that adoption works on. */
export interface AdoptionTarget {
  sessionKey: string
  state: SessionState
  shell: SessionShell
  runner: CommandRunner
  log: Logger
  /** Called when the remaining timeout of a followed command is over. */
  onTimeout: (run: QueuedRun) => void
}

/**
 * Takes over the shell the saved state names and the commands it was running (`running`: the job
 * records still marked running for the session). A command whose exit record is there is finished
 * from it; one still running is followed; any other is finished as lost. True when the shell was there.
 */
export function adoptSession (running: readonly ReAdoptEntry[], target: AdoptionTarget): boolean {
  const { state, runner, log } = target
  const shell = target.shell.adoptSaved()
  for (const entry of running) {
    // Why the script file: it is written just before the command is handed to the shell.
    const marker = existsSync(commandScriptPath(entry.files)) ? commandMarker(state.secret, entry.jobId) : null
    const request = { jobId: entry.jobId, sessionKey: target.sessionKey, files: entry.files, timeoutMs: entry.timeoutMs } as SessionRunRequest
    const run: ActiveRun = { request, callbacks: entry.callbacks, timer: null, timedOut: false, cancelled: false, ...activeFields(marker ?? '') }
    const record = marker !== null ? readRunRecord(run) : null
    if (record || !shell || marker === null || runner.active) {
      settleRun(run, record ? outcomeOf(record, run.timedOut) : failedOutcome(SESSION_MESSAGES.lostWhileDown, false, !shell), log)
      continue
    }
    state.lastFiles = entry.files
    armTimeout(run, entry.timeoutMs, target.onTimeout)
    runner.follow(run)
  }
  return shell !== null
}
