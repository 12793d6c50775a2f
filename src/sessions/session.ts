import { mkdirSync, rmSync } from 'node:fs'
import type { Logger } from 'pino'
import { adoptSession } from './adopt.js'
import { CommandRunner, type StdinWrite } from './command-runner.js'
import { startCommand, type CommandStartContext } from './command-start.js'
import { lastOutputAt } from './last-output.js'
import { failedOutcome, SESSION_MESSAGES } from './outcomes.js'
import { armTimeout, settleRun, type QueuedRun } from './runs.js'
import { RunQueue } from './run-queue.js'
import { SessionShell } from './session-shell.js'
import { shellPaths, type ShellPaths, type ShellProcess } from './shell-process.js'
import { newSessionState, StateFile, type SessionState } from './state-file.js'
import type { ReAdoptEntry, SessionInfo, SessionOutcome, SessionRunCallbacks, SessionRunRequest } from './types.js'

/** Options every session of a pool shares. */
export interface SessionOptions {
  dir: string
  killGraceMs: number
  log: Logger
  /** Called when the session has nothing to run (for the idle timer and the pool). */
  onIdle: (session: Session) => void
}

// One named session: its shell, seed and bootstrap, and the commands that run in it one at a time.
export class Session {
  readonly key: string
  readonly paths: ShellPaths
  readonly #options: SessionOptions
  readonly #file: StateFile
  readonly #state: SessionState
  readonly #shell: SessionShell
  readonly #queue: RunQueue
  readonly #runner: CommandRunner
  #ended = false

  constructor (state: SessionState, options: SessionOptions) {
    this.key = state.sessionKey
    this.#state = state
    this.#options = options
    this.paths = shellPaths(options.dir)
    const { log } = options
    const file = this.#file = new StateFile(`${options.dir}/session.json`, state, log)
    const changed = (): void => { file.changed() }
    const save = (): void => { file.save() }
    const shell = this.#shell = new SessionShell({ state, paths: this.paths, log, changed, save, exited: (s) => { this.#onShellExit(s) } })
    const runner = this.#runner = new CommandRunner({ file, shell, killGraceMs: options.killGraceMs, log, finished: () => { this.#queue.pump() } })
    const start: CommandStartContext = { file, shell, runner, dir: options.dir, stdinPath: this.paths.stdin, log, ended: () => this.#ended }
    this.#queue = new RunQueue({
      canStart: () => !runner.active && !this.#ended,
      start: (run) => startCommand(run, start),
      idle: () => { options.onIdle(this) },
      log,
    })
  }

  /** A new session seeded from its first request. */
  static create (request: SessionRunRequest, options: SessionOptions): Session {
    mkdirSync(options.dir, { recursive: true, mode: 0o700 })
    return new Session(newSessionState(request), options)
  }

  get shell (): SessionState['shell'] { return this.#state.shell }
  get lastUsedAt (): number { return this.#state.lastUsedAt }
  /** True while a command runs or waits. */
  get busy (): boolean { return this.#runner.active !== null || this.#queue.pending }

  /** Queues a command; the position among the commands waiting (0 = it runs now). */
  enqueue (request: SessionRunRequest, callbacks: SessionRunCallbacks): number {
    const run: QueuedRun = { request, callbacks, timer: null, timedOut: false, cancelled: false }
    armTimeout(run, request.timeoutMs, (r) => { this.#onTimeout(r) })
    const position = this.#queue.add(run) + (this.#runner.active || this.#queue.starting ? 1 : 0)
    this.#file.touch()
    this.#queue.pump()
    return position
  }

  /** The job's place: 0 running, n > 0 waiting behind n - 1 others; null when not here. */
  position (jobId: string): number | null {
    if (this.#runner.active?.request.jobId === jobId) return 0
    return this.#queue.position(jobId)
  }

  /** Sends a signal to the processes of the running command `jobId`; the number signalled. */
  signal (jobId: string, signal: NodeJS.Signals): number {
    return this.#runner.signal(jobId, signal)
  }

  /** Ends command `jobId`: a waiting one is dropped; a running one gets SIGINT, SIGTERM, SIGKILL. */
  async terminate (jobId: string): Promise<void> {
    const waiting = this.#queue.remove(jobId)
    if (waiting) {
      this.#settle(waiting, failedOutcome(SESSION_MESSAGES.cancelled, waiting.timedOut, false))
      return
    }
    const starting = this.#queue.starting
    if (starting?.request.jobId === jobId) starting.cancelled = true
    const active = this.#runner.active
    if (active?.request.jobId === jobId) await this.#runner.kill(active)
  }

  /** Writes to the running command's stdin: all of it (`written`), or `bytes` of it and why not more. */
  writeStdin (jobId: string, data: string | Buffer): StdinWrite {
    return this.#runner.writeStdin(jobId, data)
  }

  /** True while the shell process lives. */
  get processAlive (): boolean { return this.#shell.current?.alive ?? false }

  /** devpilot's info object plus cwd, pid and jobs. */
  info (): SessionInfo {
    const alive = this.processAlive
    const active = this.#runner.active ?? this.#queue.starting
    return {
      sessionKey: this.key,
      shell: this.#state.shell,
      status: active ? 'running' : alive ? 'idle' : 'stopped',
      createdAt: this.#state.createdAt,
      lastUsedAt: this.#state.lastUsedAt,
      lastOutputAt: lastOutputAt(this.#state),
      processAlive: alive,
      activeCommand: active !== null,
      cwd: alive ? this.#shell.current?.cwd() ?? null : null,
      pid: alive ? this.#shell.current?.pid ?? null : null,
      jobId: active?.request.jobId ?? null,
      queuedJobIds: this.#queue.waitingJobIds,
    }
  }

  /** Takes over the shell and the running commands an earlier server left (see adoptSession); true when the shell was there. */
  adopt (running: readonly ReAdoptEntry[]): boolean {
    const { log } = this.#options
    const adopted = adoptSession(running, { sessionKey: this.key, state: this.#state, shell: this.#shell, runner: this.#runner, log, onTimeout: (run) => { this.#onTimeout(run) } })
    this.#file.save()
    return adopted
  }

  /** Ends the session: kills every process of its shell's session (and earlier shells'), fails its commands. */
  async end (why: string): Promise<void> {
    if (this.#ended) return
    this.#ended = true
    this.#file.close()
    const outcome = (run: QueuedRun): SessionOutcome => (failedOutcome(SESSION_MESSAGES.ended(why), run.timedOut, true))
    for (const run of this.#queue.drain()) this.#settle(run, outcome(run))
    const starting = this.#queue.starting
    if (starting) this.#settle(starting, outcome(starting))
    // The shell's processes get SIGKILL now; the running command is settled before the wait for the shell's end.
    const shellEnded = this.#shell.end()
    const active = this.#runner.release()
    if (active) this.#settle(active, outcome(active))
    await shellEnded
    rmSync(this.#options.dir, { recursive: true, force: true })
  }

  /** Stops watching; the shell and its running command go on for a later server. */
  detach (): void {
    this.#ended = true
    this.#file.close()
    this.#queue.clearTimers()
    this.#runner.detach()
    this.#shell.current?.detach()
  }

  #onShellExit (shell: ShellProcess): void {
    if (this.#shell.current !== shell || this.#ended) return
    this.#runner.shellExited(shell)
    this.#shell.forget()
    this.#file.save()
  }

  #settle (run: QueuedRun, outcome: SessionOutcome): void {
    settleRun(run, outcome, this.#options.log)
  }

  #onTimeout (run: QueuedRun): void {
    run.timedOut = true
    this.terminate(run.request.jobId).catch((err: unknown) => {
      this.#options.log.error({ err, jobId: run.request.jobId }, 'session command timeout failed')
    })
  }
}
