import { spawn, type ChildProcess } from 'node:child_process'
import type { Socket } from 'node:net'
import type { Logger } from '../logger.js'
import type { JobFiles } from './job-files.js'
import type { JobProcess, SpawnOptions } from './job-process.js'
import type { JobStdin } from './job-stdin.js'
import { openStdinFifo, pidLaunchedBefore } from './launch-file.js'
import { LaunchedJobs } from './launched-jobs.js'
import { LauncherOutbox } from './launcher-outbox.js'
import { encodePrepareRequest, encodeStartRequest, encodeStdinTaken, parseAnswer } from './launcher-protocol.js'
import { PreparedFolders } from './prepared-folders.js'
import { processStartTime } from './process-group.js'

// A launcher that dies this often within the window is given up: jobs then start without it.
const MAX_DEATHS = 5
const DEATH_WINDOW_MS = 10_000
// Job folders kept made ahead of time (a burst of submits beyond it makes its folders itself).
const PREPARED_FOLDERS = 8

interface Pending {
  message: Buffer
  options: SpawnOptions
  resolve: (process: JobProcess) => void
  reject: (err: Error) => void
}

/** The launcher's path of last resort, used for requests it can no longer serve. */
export type FallbackStart = (options: SpawnOptions) => Promise<JobProcess>

// The server's side of native/launcher: one long-lived small process that forks job processes on
// request, so that the server never forks itself. Restarted when it dies; requests it had not
// answered are sent again (its launch files make that safe) and running jobs are then followed
// by polling their pid, like jobs adopted from an earlier server.
export class Launcher {
  readonly #binary: string
  readonly #log: Logger
  readonly #fallback: FallbackStart
  readonly #pending = new Map<number, Pending>()
  readonly #jobs = new LaunchedJobs(() => this.#holdLoop())
  readonly #deaths: number[] = []
  readonly #folders = new PreparedFolders(PREPARED_FOLDERS, (dir) => this.#askToPrepare(dir))
  #child: ChildProcess | undefined
  readonly #outbox = new LauncherOutbox(() => this.#child?.stdin)
  #nextRequest = 1
  #closed = false
  #broken = false

  constructor (binary: string, log: Logger, fallback: FallbackStart) {
    this.#binary = binary
    this.#log = log
    this.#fallback = fallback
    this.#spawn()
  }

  /** The launcher process's pid (tests kill it), or undefined while none runs. */
  get pid (): number | undefined {
    return this.#child?.pid
  }

  /** Starts `shell -c command` in a new session and process group, through the launcher. */
  start (options: SpawnOptions): Promise<JobProcess> {
    if (this.#closed || this.#broken) return this.#fallback(options)
    const message = encodeStartRequest(this.#nextRequest, options)
    if (message === null) return Promise.reject(new Error('the command, shell, workdir or environment contains a NUL byte'))
    const request = this.#nextRequest++
    return new Promise((resolve, reject) => {
      this.#pending.set(request, { message, options, resolve, reject })
      this.#outbox.now(message)
      this.#holdLoop()
    })
  }

  /** Moves a folder the launcher made ahead of time to `dir`; false when none is ready (the caller makes `dir`). */
  takeFolder (dir: string): boolean {
    return !this.#closed && !this.#broken && this.#folders.take(dir)
  }

  /** Stops the launcher (it exits when its input closes); running jobs go on and are no longer followed. */
  close (): void {
    if (this.#closed) return
    this.#closed = true
    this.#folders.close()
    this.#jobs.close()
    this.#child?.stdin?.end()
    this.#child?.unref()
    this.#child = undefined
    for (const pending of this.#pending.values()) pending.reject(new Error('the server is stopping'))
    this.#pending.clear()
  }

  #spawn (): void {
    let child: ChildProcess
    try {
      // Why detached: the terminal's Ctrl-C must not reach it; it ends by itself when the server goes.
      child = spawn(this.#binary, [], { stdio: ['pipe', 'pipe', 'inherit'], detached: true, cwd: '/', env: {} })
    } catch (err) {
      this.#log.error({ err }, 'job launcher could not be started')
      this.#onDeath(undefined)
      return
    }
    this.#child = child
    // Why one buffer per launcher: recorders of a launcher that died still report through its pipe.
    let lines = ''
    child.unref()
    child.on('error', (err) => {
      this.#log.error({ err }, 'job launcher failed')
      // Why: a binary that cannot be executed gives 'error' and no 'exit'; without this, requests would wait forever.
      if (this.#child === child && child.pid === undefined) {
        this.#child = undefined
        this.#onDeath(undefined)
      }
    })
    child.stdin?.on('error', () => { /* Why: EPIPE when it died; its 'exit' sends the requests again. */ })
    child.stdout?.setEncoding('latin1')
    child.stdout?.on('data', (chunk: string) => { lines = this.#onData(lines + chunk) })
    this.#holdLoop()
    child.once('exit', (code, signal) => {
      if (this.#child !== child) return
      this.#child = undefined
      this.#log.warn({ code, signal }, 'job launcher ended')
      this.#onDeath(child)
    })
    for (const pending of this.#pending.values()) child.stdin?.write(pending.message)
  }

  #onDeath (child: ChildProcess | undefined): void {
    // Jobs it started are now followed by their pid until their recorder is gone.
    this.#jobs.launcherDied()
    this.#folders.launcherDied()
    this.#outbox.clear()
    if (this.#closed) return
    const now = Date.now()
    this.#deaths.push(now)
    while ((this.#deaths[0] ?? now) < now - DEATH_WINDOW_MS) this.#deaths.shift()
    if (child !== undefined && this.#deaths.length < MAX_DEATHS) {
      this.#spawn()
      return
    }
    this.#broken = true
    this.#log.warn('job launcher given up after repeated failures: jobs now start through Node\'s spawn (slower)')
    const pending = [...this.#pending.values()]
    this.#pending.clear()
    for (const p of pending) {
      this.#recoverPending(p).then(p.resolve, p.reject)
    }
  }

  // A request no launcher will answer: the job started already (its launch file says so) or starts now without one.
  async #recoverPending (pending: Pending): Promise<JobProcess> {
    const adopted = await this.#adoptFromLaunchFile(pending.options)
    return adopted ?? this.#fallback(pending.options)
  }

  // Why: like a child process, a job being started or followed keeps Node running; an idle launcher does not.
  #holdLoop (): void {
    const stdout = this.#child?.stdout as Socket | null | undefined
    if (this.#pending.size > 0 || this.#jobs.size > 0) stdout?.ref()
    else stdout?.unref()
  }

  // Handles every complete line of `text`; returns the incomplete rest.
  #onData (text: string): string {
    let end: number
    while ((end = text.indexOf('\n')) >= 0) {
      const line = text.slice(0, end)
      text = text.slice(end + 1)
      try {
        this.#onLine(line)
      } catch (err) {
        this.#log.error({ err, line }, 'job launcher reply failed')
      }
    }
    this.#holdLoop()
    return text
  }

  #onLine (line: string): void {
    const answer = parseAnswer(line)
    if (answer.kind === 'recorder-exit') return this.#jobs.recorderExited(answer.pid, answer.code, answer.signal)
    if (answer.kind === 'ready') return
    if (answer.kind === 'prepared') {
      this.#folders.answered(answer.request, true)
      return
    }
    if (answer.kind === 'failed' && this.#folders.answered(answer.request, false)) {
      return this.#log.debug({ message: answer.message }, 'job launcher could not prepare a folder')
    }
    const pending = this.#pending.get(answer.request)
    if (!pending) return
    this.#pending.delete(answer.request)
    if (answer.kind === 'started') {
      pending.resolve(this.#started(pending.options, answer.pid, answer.startTime))
    } else if (answer.kind === 'started-before') {
      this.#adoptFromLaunchFile(pending.options)
        .then((adopted) => adopted ?? this.start(pending.options))
        .then(pending.resolve, pending.reject)
    } else {
      pending.reject(new Error(answer.message))
    }
  }

  #started (options: SpawnOptions, pid: number, startTime: string | null): JobProcess {
    const stdin = options.stdin === 'pipe' ? this.#openStdin(options.files, pid) : null
    return this.#jobs.follow(options.files, pid, startTime, stdin, false)
  }

  // Why no request while the launcher is gone or given up: a new one starts with an empty stock.
  #askToPrepare (dir: string): number | null {
    const child = this.#child
    const message = encodePrepareRequest(this.#nextRequest, dir)
    if (this.#closed || this.#broken || child?.stdin == null || message === null) return null
    this.#outbox.later(message)
    return this.#nextRequest++
  }

  // Opens the server's end of the job's stdin FIFO, then lets the launcher drop the writer it held meanwhile.
  #openStdin (files: JobFiles, pid: number): JobStdin | null {
    const stdin = openStdinFifo(files)
    this.#outbox.later(encodeStdinTaken(pid))
    return stdin
  }

  // The job of a request sent again after a launcher died, if that launcher had started it already.
  async #adoptFromLaunchFile (options: SpawnOptions): Promise<JobProcess | null> {
    const pid = await pidLaunchedBefore(options.files)
    if (pid === null) return null
    this.#log.info({ pid }, 'job found started by a launcher that then died')
    return this.#jobs.follow(options.files, pid, processStartTime(pid), null, true)
  }
}
