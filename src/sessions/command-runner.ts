// The command a session's shell runs now: the watch for its exit record, its end, its kill, signals and stdin.
import type { Logger } from 'pino'
import { noteBootstrapRan } from './bootstrap.js'
import type { ExitRecord } from './command-line.js'
import { ExitWatch } from './exit-watch.js'
import { killRun, signalCommand } from './kill-command.js'
import { finishedOutcome, readRunRecord, settleRun, type ActiveRun } from './runs.js'
import type { SessionShell } from './session-shell.js'
import type { ShellProcess } from './shell-process.js'
import type { StateFile } from './state-file.js'
import { errorMessage } from '../lib/error-message.js'

/** The result of a stdin write: `written` when all bytes were taken. */
export interface StdinWrite { written: boolean, bytes: number, reason: string }

/** What a session's command runner is given by its session. */
export interface CommandRunnerHooks {
  file: StateFile
  shell: SessionShell
  killGraceMs: number
  /** The session's logger (it names the session). */
  log: Logger
  /** The running command ended: the next one may start. */
  finished: () => void
}

/** Holds the command a session's shell runs now (one at a time) and follows it to its end: exit record, shell exit or kill. */
export class CommandRunner {
  readonly #hooks: CommandRunnerHooks
  #active: ActiveRun | null = null

  constructor (hooks: CommandRunnerHooks) {
    this.#hooks = hooks
  }

  /** The command the shell runs now, or null. */
  get active (): ActiveRun | null { return this.#active }

  /** The shell runs `run` now (handed to it, or left by an earlier server); watch() follows it to its end. */
  begin (run: ActiveRun): void {
    this.#active = run
  }

  /** Watches the running command's directory (and polls) until its exit record appears. */
  watch (run: ActiveRun): void {
    const check = (): void => {
      try {
        const record = readRunRecord(run)
        if (record) this.#finish(run, record, null)
      } catch (err) {
        this.#hooks.log.error({ err, jobId: run.request.jobId }, 'session exit check failed')
      }
    }
    run.watch = new ExitWatch(run.request.files.dir, check)
    check()
  }

  /** Follows a command an earlier server handed to the shell, until its exit record appears. */
  follow (run: ActiveRun): void {
    this.begin(run)
    this.watch(run)
  }

  /** The session's shell ended: so did the running command. */
  shellExited (shell: ShellProcess): void {
    const active = this.#active
    // Why: the exit file may have been written just before the shell ended.
    if (active) this.#finish(active, readRunRecord(active), shell)
  }

  /** Sends a signal to the processes of the running command `jobId`; the number signalled. */
  signal (jobId: string, signal: NodeJS.Signals): number {
    const active = this.#active
    const shell = this.#hooks.shell.current
    if (!active || active.request.jobId !== jobId || !shell) return 0
    return signalCommand(shell, jobId, signal)
  }

  /** Writes to the running command's stdin: all of it (`written`), or `bytes` of it and why not more. */
  writeStdin (jobId: string, data: string | Buffer): StdinWrite {
    const shell = this.#hooks.shell.current
    if (this.#active?.request.jobId !== jobId || !shell?.alive) return { written: false, bytes: 0, reason: 'persistent session not running' }
    this.#hooks.file.touch()
    try {
      const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length
      const bytes = shell.writeStdin(data)
      return bytes === size ? { written: true, bytes, reason: '' } : { written: false, bytes, reason: `the command is not reading its stdin; ${bytes} of ${size} bytes were taken` }
    } catch (err) {
      return { written: false, bytes: 0, reason: errorMessage(err) }
    }
  }

  /** The kill sequence; a shell that does not finish the command even then is stuck and killed. */
  kill (run: ActiveRun): Promise<void> {
    const { shell, killGraceMs, log } = this.#hooks
    run.killing ??= killRun(shell.current, run, killGraceMs, log)
    return run.killing
  }

  /** Stops following the running command and holds it no more (the session ends); the run, or null. */
  release (): ActiveRun | null {
    const active = this.#active
    if (active) {
      this.#stopWatching(active)
      this.#active = null
    }
    return active
  }

  /** Stops following the running command and its timeout; it goes on in the shell for a later server. */
  detach (): void {
    if (this.#active) this.#stopWatching(this.#active)
    this.#active?.timer?.clear()
  }

  #stopWatching (run: ActiveRun): void {
    run.watch?.close()
    run.watch = null
  }

  // Ends the running command: from its exit record, or (record null) because its shell is gone.
  #finish (run: ActiveRun, record: ExitRecord | null, goneShell: ShellProcess | null): void {
    if (run.done || this.#active !== run) return
    if (record === null && goneShell === null && this.#hooks.shell.current?.alive) return
    run.done = true
    this.#stopWatching(run)
    this.#active = null
    const { file } = this.#hooks
    if (noteBootstrapRan(file.state, record)) file.changed()
    file.touch()
    file.save()
    settleRun(run, finishedOutcome(run, record, goneShell), this.#hooks.log)
    setImmediate(() => { this.#hooks.finished() })
  }
}
