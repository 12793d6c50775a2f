// Starting a queued command: the session's shell (started if none runs), then the command's hand-over to it.
import type { Logger } from 'pino'
import { bootstrapDue, takeRequestBootstrap } from './bootstrap.js'
import type { CommandRunner } from './command-runner.js'
import { handedOverAtMs, handOverCommand } from './hand-over.js'
import { failedOutcome, SESSION_MESSAGES } from './outcomes.js'
import { activeFields, commandMarker, readRunRecord, settleRun, type ActiveRun, type QueuedRun } from './runs.js'
import type { SessionShell } from './session-shell.js'
import type { ShellProcess } from './shell-process.js'
import type { StateFile } from './state-file.js'
import { errorMessage } from '../lib/error-message.js'

/** What starting a command needs from its session. */
export interface CommandStartContext {
  file: StateFile
  shell: SessionShell
  runner: CommandRunner
  /** The session's directory (the due bootstrap is written there). */
  dir: string
  /** The FIFO a command reads as its stdin. */
  stdinPath: string
  log: Logger
  /** True once the session was ended or detached. */
  ended: () => boolean
}

/** Starts the session's shell if none runs, then hands `queued` to it; a run that cannot start is settled. */
export async function startCommand (queued: QueuedRun, ctx: CommandStartContext): Promise<void> {
  let shell: ShellProcess
  const hadShell = ctx.shell.current?.alive === true
  try {
    shell = await ctx.shell.ensure()
  } catch (err) {
    settleRun(queued, failedOutcome(errorMessage(err), queued.timedOut, false), ctx.log)
    return
  }
  if (ctx.ended()) {
    // Why: the session ended or was detached while a new shell was starting; no one else
    // knows that shell (a detached session's next server would never adopt it). A shell that
    // was running before is left alone (end() killed it already; detach keeps it).
    if (!hadShell) shell.killSession()
    return
  }
  if (queued.cancelled) {
    settleRun(queued, failedOutcome(SESSION_MESSAGES.cancelled, queued.timedOut, false), ctx.log)
    return
  }
  handOver(queued, shell, ctx)
}

// Hands the run to the live shell (or follows it, if an earlier server did) and has the runner watch for its end.
function handOver (queued: QueuedRun, shell: ShellProcess, ctx: CommandStartContext): void {
  const { file, runner, log } = ctx
  const { state } = file
  const { request } = queued
  if (takeRequestBootstrap(state, request)) file.changed()
  const bootstrapPath = bootstrapDue(state, request) ? `${ctx.dir}/bootstrap` : null
  const marker = commandMarker(state.secret, request.jobId)
  // Why the same object: the run's timeout timer already holds `queued` and sets timedOut on it.
  const run: ActiveRun = Object.assign(queued, activeFields(marker))
  const startedAt = Date.now() / 1000
  const handedOverAt = handedOverAtMs(request.files)
  if (handedOverAt !== null) {
    // Why: a new server may submit again a job that the old one handed to this shell just
    // before it stopped; the job is followed (or finished from its exit record), never run twice.
    if (readRunRecord(run) === null && handedOverAt < state.createdAt * 1000) {
      settleRun(run, failedOutcome(SESSION_MESSAGES.lostWhileDown, run.timedOut, true), log)
      return
    }
    runner.begin(run)
  } else {
    try {
      const handOver = { shellKind: state.shell, jobId: request.jobId, marker, files: request.files, command: request.command, stdinPath: ctx.stdinPath, bootstrapPath, bootstrap: state.bootstrap }
      handOverCommand(shell, handOver, () => { runner.begin(run) })
    } catch (err) {
      runner.release()
      settleRun(run, { exitCode: null, signal: null, error: `could not hand the command to the session's shell: ${errorMessage(err)}`, timedOut: run.timedOut, shellRestarted: false }, log)
      return
    }
  }
  state.lastFiles = request.files
  state.lastStartedAt = startedAt
  file.touch()
  file.save()
  try {
    run.callbacks.started({ pid: shell.pid, startTime: shell.startTime, startedAt })
  } catch (err) {
    log.error({ err, jobId: request.jobId }, 'session started callback failed')
  }
  runner.watch(run)
}
