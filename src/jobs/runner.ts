import { Errors } from '../errors.js'
import { exitInfoFromStatus, jobFiles, readExitFile } from '../exec/job-files.js'
import { JobProcess } from '../exec/job-process.js'
import { createJobStarter, type JobStarter } from '../exec/job-starter.js'
import { isSameProcess } from '../exec/process-group.js'
import { childEnv, withoutSecrets } from '../lib/child-env.js'
import type { Logger } from '../logger.js'
import { lastWriteAt } from '../output/read.js'
import type { ExitInfo, JobRecord } from './types.js'

/** Why a running job was asked to end. */
export type KillReason = 'cancel' | 'timeout' | 'idle' | 'shutdown'

/** Called once per job when its process group is gone, with the reason it was asked to end (if any). */
export type ExitListener = (id: string, info: ExitInfo, reason: KillReason | null) => void

// Unread stdin the server holds for one job before refusing more (the job is not reading).
const STDIN_BUFFER_LIMIT_BYTES = 1024 * 1024
// Signals that ask a process to end: sending one through the API ends the job `cancelled`.
const ENDING_SIGNALS: ReadonlySet<string> = new Set(['SIGTERM', 'SIGINT', 'SIGKILL', 'SIGHUP', 'SIGQUIT', 'SIGABRT'])
const now = (): number => Date.now() / 1000

interface RunningJob {
  process: JobProcess
  killReason: KillReason | null
  stdinOpen: boolean
  timers: NodeJS.Timeout[]
  done: Promise<void>
}

// The processes of running jobs: start or adopt, timeouts, idle checks, signals, stdin, exit.
export class JobRunner {
  readonly #stateDir: string
  readonly #killGraceMs: number
  readonly #log: Logger
  readonly #onExit: ExitListener
  readonly #running = new Map<string, RunningJob>()
  #detached = false
  // Why: copying and filtering the server's environment for every job showed up in profiles.
  readonly #baseEnv = childEnv()
  readonly #starter: JobStarter

  constructor (options: { stateDir: string, killGraceMs: number, log: Logger, onExit: ExitListener }) {
    this.#stateDir = options.stateDir
    this.#killGraceMs = options.killGraceMs
    this.#log = options.log
    this.#onExit = options.onExit
    this.#starter = createJobStarter(options.log)
  }

  get size (): number {
    return this.#running.size
  }

  has (id: string): boolean {
    return this.#running.has(id)
  }

  /** Starts the job's process (throws when it cannot be started) and follows it. */
  async start (job: JobRecord): Promise<JobProcess> {
    const { spec } = job
    const process = await this.#starter.start({
      files: jobFiles(this.#stateDir, job.id),
      command: spec.command,
      shell: spec.shell,
      cwd: spec.workdir,
      env: { ...this.#baseEnv, ...withoutSecrets(spec.env) },
      stdin: spec.stdinEof && spec.stdin === null ? 'ignore' : 'pipe',
    })
    if (spec.stdin !== null) process.stdin?.write(spec.stdin)
    if (spec.stdinEof) process.stdin?.end()
    this.follow(job, process, !spec.stdinEof)
    return process
  }

  /**
   * Takes over a job an earlier server left running: follows its process if it is still alive
   * (returns null), else returns how it ended (its recorded exit status, or lost).
   */
  resume (job: JobRecord): ExitInfo | null {
    const files = jobFiles(this.#stateDir, job.id)
    if (job.pid !== null && isSameProcess(job.pid, job.pidStartTime)) {
      this.#log.info({ jobId: job.id, pid: job.pid }, 'job re-adopted')
      this.follow(job, JobProcess.adopt(job.pid, job.pidStartTime, files), false)
      return null
    }
    const status = readExitFile(files.exit)
    this.#log.info({ jobId: job.id, exitCode: status }, 'job ended while no server was running')
    return status !== null
      ? exitInfoFromStatus(status)
      : { exitCode: null, signal: null, error: 'lost: the server stopped while this job ran and its process is gone' }
  }

  /** Follows a process (started here or adopted): enforces the job's limits and reports its exit. */
  follow (job: JobRecord, process: JobProcess, stdinOpen: boolean): void {
    const { id, spec } = job
    const startedAt = job.startedAt ?? now()
    const timers: NodeJS.Timeout[] = []
    if (spec.timeoutSec > 0) {
      const remainingMs = Math.max(0, (startedAt + spec.timeoutSec - now()) * 1000)
      timers.push(setTimeout(() => this.terminate(id, 'timeout'), remainingMs))
    }
    if (spec.idleTimeoutSec > 0) {
      const files = jobFiles(this.#stateDir, id)
      const checkMs = Math.min(1000, Math.max(50, spec.idleTimeoutSec * 250))
      timers.push(setInterval(() => {
        const last = Math.max(startedAt, lastWriteAt([files.stdout, files.stderr]) ?? 0)
        if (now() - last >= spec.idleTimeoutSec) this.terminate(id, 'idle')
      }, checkMs))
    }
    const done = process.exited
      .then((info) => {
        if (this.#detached) return
        const running = this.#running.get(id)
        for (const timer of running?.timers ?? []) clearTimeout(timer)
        this.#running.delete(id)
        this.#onExit(id, info, running?.killReason ?? null)
      })
      .catch((err: unknown) => this.#log.error({ err, jobId: id }, 'job finish failed'))
    this.#running.set(id, { process, killReason: null, stdinOpen, timers, done })
  }

  /** SIGTERM to the job's group, SIGKILL after the grace; the first reason given is the one recorded. */
  terminate (id: string, reason: KillReason): void {
    const running = this.#running.get(id)
    if (!running) return
    running.killReason ??= reason
    running.process.terminate(this.#killGraceMs)
      .catch((err: unknown) => this.#log.error({ err, jobId: id }, 'kill failed'))
  }

  /** Sends one signal to the job's group; an ending signal makes the job end `cancelled`. */
  signal (id: string, signal: NodeJS.Signals): void {
    const running = this.#running.get(id)
    if (!running) return
    if (signal === 'SIGTERM') return this.terminate(id, 'cancel')
    if (ENDING_SIGNALS.has(signal)) running.killReason ??= 'cancel'
    running.process.signal(signal)
  }

  /** Queues bytes for the job's stdin (never waiting for the job to read them) and optionally closes it. */
  writeStdin (id: string, data: string, eof: boolean): number {
    const running = this.#running.get(id)
    const stdin = running?.process.stdin
    if (!running || !stdin || !running.stdinOpen || stdin.destroyed || stdin.writableEnded) throw new Errors.STDIN_CLOSED()
    if (stdin.writableLength > STDIN_BUFFER_LIMIT_BYTES) throw new Errors.STDIN_BUSY(STDIN_BUFFER_LIMIT_BYTES)
    const bytes = Buffer.byteLength(data)
    if (bytes > 0) stdin.write(data)
    if (eof) {
      running.stdinOpen = false
      stdin.end()
    }
    return bytes
  }

  /** Lets every running job go on without this server: limits and exit reports stop here. */
  detachAll (): void {
    this.#detached = true
    for (const running of this.#running.values()) {
      for (const timer of running.timers) clearTimeout(timer)
      running.process.detach()
    }
    this.#starter.close()
  }

  /** Ends every running job (reason `shutdown`) and resolves when all have been reported. */
  async stopAll (): Promise<void> {
    for (const id of this.#running.keys()) this.terminate(id, 'shutdown')
    await Promise.all([...this.#running.values()].map((r) => r.done))
    this.#starter.close()
  }
}
