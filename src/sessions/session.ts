import { existsSync, mkdirSync, rmSync } from 'node:fs'
import type { Logger } from 'pino'
import { signalSession } from '../exec/process-group.js'
import { waitUntil } from '../lib/wait.js'
import { bootstrapDue, noteBootstrapRan, takeRequestBootstrap } from './bootstrap.js'
import { commandScriptPath, type ExitRecord } from './command-line.js'
import { ExitWatch } from './exit-watch.js'
import { handedOverAtMs, handOverCommand } from './hand-over.js'
import { AFTER_KILL_WAIT_MS, killRun } from './kill-command.js'
import { lastOutputAt } from './last-output.js'
import { failedOutcome, outcomeOf, SESSION_MESSAGES } from './outcomes.js'
import { activeFields, armTimeout, commandMarker, finishedOutcome, readRunRecord, settleRun, type ActiveRun, type QueuedRun } from './runs.js'
import { RunQueue } from './run-queue.js'
import { SessionShell } from './session-shell.js'
import { shellPaths, type ShellPaths, type ShellProcess } from './shell-process.js'
import { newSessionState, writeSessionState, type SessionState } from './state-file.js'
import type { ReAdoptEntry, SessionInfo, SessionOutcome, SessionRunCallbacks, SessionRunRequest } from './types.js'

/** The result of a stdin write: `written` when all bytes were taken. */
export interface StdinWrite { written: boolean, bytes: number, reason: string }

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
  readonly #state: SessionState
  readonly #shell: SessionShell
  readonly #queue = new RunQueue()
  #active: ActiveRun | null = null
  #ended = false
  // Set when the saved state differs in more than lastUsedAt and the latest command's files.
  #dirty = true

  constructor (state: SessionState, options: SessionOptions) {
    this.key = state.sessionKey
    this.#state = state
    this.#options = options
    this.paths = shellPaths(options.dir)
    this.#shell = new SessionShell({
      state,
      paths: this.paths,
      log: options.log,
      sessionKey: this.key,
      changed: () => { this.#dirty = true },
      save: () => { this.#save() },
      exited: (shell) => { this.#onShellExit(shell) },
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
  get busy (): boolean { return this.#active !== null || this.#queue.pending }

  /** Queues a command; the position among the commands waiting (0 = it runs now). */
  enqueue (request: SessionRunRequest, callbacks: SessionRunCallbacks): number {
    const run: QueuedRun = { request, callbacks, timer: null, timedOut: false, cancelled: false }
    armTimeout(run, request.timeoutMs, (r) => { this.#onTimeout(r) })
    const position = this.#queue.add(run) + (this.#active || this.#queue.starting ? 1 : 0)
    this.#touch()
    this.#pump()
    return position
  }

  /** The job's place: 0 running, n > 0 waiting behind n - 1 others; null when not here. */
  position (jobId: string): number | null {
    if (this.#active?.request.jobId === jobId) return 0
    return this.#queue.position(jobId)
  }

  /** Sends a signal to the processes of the running command `jobId`; the number signalled. */
  signal (jobId: string, signal: NodeJS.Signals): number {
    const active = this.#active
    const shell = this.#shell.current
    if (!active || active.request.jobId !== jobId || !shell) return 0
    let count = 0
    for (const pid of shell.commandProcesses(jobId)) {
      try { process.kill(pid, signal); count++ } catch { /* gone */ }
    }
    return count
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
    const active = this.#active
    if (active?.request.jobId === jobId) await this.#kill(active)
  }

  /** Writes to the running command's stdin: all of it (`written`), or `bytes` of it and why not more. */
  writeStdin (jobId: string, data: string | Buffer): StdinWrite {
    const shell = this.#shell.current
    if (this.#active?.request.jobId !== jobId || !shell?.alive) return { written: false, bytes: 0, reason: 'persistent session not running' }
    this.#touch()
    try {
      const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length
      const bytes = shell.writeStdin(data)
      return bytes === size ? { written: true, bytes, reason: '' } : { written: false, bytes, reason: `the command is not reading its stdin; ${bytes} of ${size} bytes were taken` }
    } catch (err) {
      return { written: false, bytes: 0, reason: (err as Error).message }
    }
  }

  /** True while the shell process lives. */
  get processAlive (): boolean { return this.#shell.current?.alive ?? false }

  /** devpilot's info object plus cwd, pid and jobs. */
  info (): SessionInfo {
    const alive = this.processAlive
    const active = this.#active ?? this.#queue.starting
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

  /**
   * Takes over the shell an earlier server left and the commands it was running (`running`: the
   * job records still marked running for this session). A command whose exit record is there is
   * finished from it; one still running is followed; any other is finished as lost.
   */
  adopt (running: readonly ReAdoptEntry[]): boolean {
    const state = this.#state
    const shell = this.#shell.adoptSaved()
    for (const entry of running) {
      // Why the script file: it is written just before the command is handed to the shell.
      const marker = existsSync(commandScriptPath(entry.files)) ? this.#markerOf(entry.jobId) : null
      const request = { jobId: entry.jobId, sessionKey: this.key, files: entry.files, timeoutMs: entry.timeoutMs } as SessionRunRequest
      const run: ActiveRun = { request, callbacks: entry.callbacks, timer: null, timedOut: false, cancelled: false, ...activeFields(marker ?? '') }
      const record = marker !== null ? readRunRecord(run) : null
      if (record || !shell || marker === null || this.#active) {
        this.#settle(run, record ? outcomeOf(record, run.timedOut) : failedOutcome(SESSION_MESSAGES.lostWhileDown, false, !shell))
        continue
      }
      this.#active = run
      state.lastFiles = entry.files
      armTimeout(run, entry.timeoutMs, (r) => { this.#onTimeout(r) })
      this.#watch(run)
    }
    this.#save()
    return shell !== null
  }

  /** Ends the session: kills every process of its shell's session (and earlier shells'), fails its commands. */
  async end (why: string): Promise<void> {
    if (this.#ended) return
    this.#ended = true
    const outcome = (run: QueuedRun): SessionOutcome => (failedOutcome(SESSION_MESSAGES.ended(why), run.timedOut, true))
    for (const run of this.#queue.drain()) this.#settle(run, outcome(run))
    const starting = this.#queue.starting
    if (starting) this.#settle(starting, outcome(starting))
    const shell = this.#shell.current
    for (const sid of [...this.#state.formerSids, ...(shell ? [shell.pid] : [])]) signalSession(sid, 'SIGKILL')
    const active = this.#active
    if (active) {
      this.#stopWatching(active)
      this.#active = null
      this.#settle(active, outcome(active))
    }
    if (shell) {
      await Promise.race([shell.exited, waitUntil(() => !shell.alive, AFTER_KILL_WAIT_MS)])
      shell.detach()
    }
    this.#shell.clear()
    rmSync(this.#options.dir, { recursive: true, force: true })
  }

  /** Stops watching; the shell and its running command go on for a later server. */
  detach (): void {
    this.#ended = true
    this.#queue.clearTimers()
    if (this.#active) this.#stopWatching(this.#active)
    this.#active?.timer?.clear()
    this.#shell.current?.detach()
  }

  #touch (): void {
    this.#state.lastUsedAt = Date.now() / 1000
  }

  #pump (): void {
    if (this.#queue.starting || this.#active || this.#ended) return
    const next = this.#queue.takeNext()
    if (!next) {
      this.#options.onIdle(this)
      return
    }
    this.#startRun(next)
      .catch((err: unknown) => { this.#options.log.error({ err, sessionKey: this.key }, 'session run failed to start') })
      .finally(() => {
        this.#queue.startOver()
        if (!this.#active) this.#pump()
      })
  }

  async #startRun (queued: QueuedRun): Promise<void> {
    const { request } = queued
    let shell: ShellProcess
    const hadShell = this.#shell.current?.alive === true
    try {
      shell = await this.#shell.ensure()
    } catch (err) {
      this.#settle(queued, failedOutcome((err as Error).message, queued.timedOut, false))
      return
    }
    if (this.#ended) {
      // Why: the session ended or was detached while a new shell was starting; no one else
      // knows that shell (a detached session's next server would never adopt it). A shell that
      // was running before is left alone (end() killed it already; detach keeps it).
      if (!hadShell) shell.killSession()
      return
    }
    if (queued.cancelled) {
      this.#settle(queued, failedOutcome(SESSION_MESSAGES.cancelled, queued.timedOut, false))
      return
    }
    const state = this.#state
    if (takeRequestBootstrap(state, request)) this.#dirty = true
    const bootstrapPath = bootstrapDue(state, request) ? `${this.#options.dir}/bootstrap` : null
    const marker = this.#markerOf(request.jobId)
    // Why the same object: the run's timeout timer already holds `queued` and sets timedOut on it.
    const run: ActiveRun = Object.assign(queued, activeFields(marker))
    const startedAt = Date.now() / 1000
    const handedOverAt = handedOverAtMs(request.files)
    if (handedOverAt !== null) {
      // Why: a new server may submit again a job that the old one handed to this shell just
      // before it stopped; the job is followed (or finished from its exit record), never run twice.
      if (readRunRecord(run) === null && handedOverAt < state.createdAt * 1000) {
        this.#settle(run, failedOutcome(SESSION_MESSAGES.lostWhileDown, run.timedOut, true))
        return
      }
      this.#active = run
    } else {
      try {
        const handOver = { shellKind: state.shell, jobId: request.jobId, marker, files: request.files, command: request.command, stdinPath: this.paths.stdin, bootstrapPath, bootstrap: state.bootstrap }
        handOverCommand(shell, handOver, () => { this.#active = run })
      } catch (err) {
        this.#active = null
        this.#settle(run, { exitCode: null, signal: null, error: `could not hand the command to the session's shell: ${(err as Error).message}`, timedOut: run.timedOut, shellRestarted: false })
        return
      }
    }
    state.lastFiles = request.files
    state.lastStartedAt = startedAt
    this.#touch()
    this.#save()
    try {
      run.callbacks.started({ pid: shell.pid, startTime: shell.startTime, startedAt })
    } catch (err) {
      this.#options.log.error({ err, jobId: request.jobId }, 'session started callback failed')
    }
    this.#watch(run)
  }

  #onShellExit (shell: ShellProcess): void {
    if (this.#shell.current !== shell || this.#ended) return
    const active = this.#active
    // Why: the exit file may have been written just before the shell ended.
    if (active) this.#finishActive(active, readRunRecord(active), shell)
    this.#shell.forget()
    this.#save()
  }

  #watch (run: ActiveRun): void {
    const check = (): void => {
      try {
        const record = readRunRecord(run)
        if (record) this.#finishActive(run, record, null)
      } catch (err) {
        this.#options.log.error({ err, jobId: run.request.jobId }, 'session exit check failed')
      }
    }
    run.watch = new ExitWatch(run.request.files.dir, check)
    check()
  }

  #stopWatching (run: ActiveRun): void {
    run.watch?.close()
    run.watch = null
  }

  // Ends the running command: from its exit record, or (record null) because its shell is gone.
  #finishActive (run: ActiveRun, record: ExitRecord | null, goneShell: ShellProcess | null): void {
    if (run.done || this.#active !== run) return
    if (record === null && goneShell === null && this.#shell.current?.alive) return
    run.done = true
    this.#stopWatching(run)
    this.#active = null
    if (noteBootstrapRan(this.#state, record)) this.#dirty = true
    this.#touch()
    this.#save()
    this.#settle(run, finishedOutcome(run, record, goneShell))
    setImmediate(() => { this.#pump() })
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

  // The kill sequence; a shell that does not finish the command even then is stuck and killed.
  #kill (run: ActiveRun): Promise<void> {
    run.killing ??= killRun(this.#shell.current, run, this.#options.killGraceMs, this.#options.log, this.key)
    return run.killing
  }

  #markerOf (jobId: string): string {
    return commandMarker(this.#state.secret, jobId)
  }

  // Why only on changes: the atomic rename cost ~3 ms per command on the test machine's /tmp.
  #save (): void {
    if (this.#ended || !this.#dirty) return
    this.#dirty = false
    try {
      writeSessionState(`${this.#options.dir}/session.json`, this.#state)
    } catch (err) {
      this.#options.log.error({ err, sessionKey: this.key }, 'could not save session state')
    }
  }
}
