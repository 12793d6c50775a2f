import { EventEmitter } from 'node:events'
import { mkdirSync } from 'node:fs'
import { customAlphabet } from 'nanoid'
import type { Config } from '../config.js'
import { Errors } from '../errors.js'
import { exitInfoFromStatus, jobFiles, readExitFile } from '../exec/job-files.js'
import { JobProcess } from '../exec/job-process.js'
import { isSameProcess } from '../exec/process-group.js'
import { childEnv } from '../lib/child-env.js'
import type { Logger } from '../logger.js'
import { lastWriteAt } from '../output/read.js'
import { JobQueue } from './queue.js'
import { pruneJobs } from './retention.js'
import type { JobStore } from './store.js'
import type { ExitInfo, JobRecord, JobSpec, JobStatus } from './types.js'

// Why: devpilot job ids are 12 hex characters and callers may rely on the shape.
const newJobId = customAlphabet('0123456789abcdef', 12)
const IDEMPOTENCY_WINDOW_SEC = 24 * 3600
const PRUNE_DELAY_MS = 1000
const PRUNE_INTERVAL_MS = 3600 * 1000
const now = (): number => Date.now() / 1000
// Unread stdin the server holds for one job before refusing more (the job is not reading).
const STDIN_BUFFER_LIMIT_BYTES = 1024 * 1024
// Signals that ask a process to end: sending one through the API ends the job `cancelled`.
const ENDING_SIGNALS: ReadonlySet<string> = new Set(['SIGTERM', 'SIGINT', 'SIGKILL', 'SIGHUP', 'SIGQUIT', 'SIGABRT'])

type KillReason = 'cancel' | 'timeout' | 'idle' | 'shutdown'

interface RunningJob {
  process: JobProcess
  killReason: KillReason | null
  stdinOpen: boolean
  timers: NodeJS.Timeout[]
  done: Promise<void>
}

/** The answer of POST /jobs/:id/nudge, in devpilot's shape. */
export type NudgeResult = { nudged: true, processAlive: true } | { nudged: false, reason: string, processAlive: boolean }

// Runs shell jobs: admission, FIFO queue, process start, limits, kill, stdin, finish, recovery.
export class JobManager {
  readonly #config: Config
  readonly #store: JobStore
  readonly #log: Logger
  readonly #queue = new JobQueue()
  readonly #running = new Map<string, RunningJob>()
  readonly #starting = new Map<string, Promise<void>>()
  readonly #cancelWhileStarting = new Set<string>()
  readonly #finished = new EventEmitter().setMaxListeners(0)
  readonly #pruneTimer: NodeJS.Timeout
  #pruneScheduled: NodeJS.Timeout | undefined
  #closed = false

  constructor (config: Config, store: JobStore, log: Logger) {
    this.#config = config
    this.#store = store
    this.#log = log
    this.#pruneTimer = setInterval(() => this.#prune(), PRUNE_INTERVAL_MS).unref()
  }

  /** Accepts a job (or finds the one this idempotency key already made); it starts when a slot is free. */
  submit (spec: JobSpec, idempotencyKey?: string): { job: JobRecord, created: boolean } {
    if (idempotencyKey) {
      const existing = this.#store.findByIdempotencyKey(idempotencyKey)
      if (existing && existing.submittedAt > now() - IDEMPOTENCY_WINDOW_SEC) return { job: existing, created: false }
      if (existing) this.#store.update(existing.id, { idempotencyKey: null })
    }
    if (this.#queue.size >= this.#config.maxPendingJobs && this.#freeSlots() === 0) {
      throw new Errors.QUEUE_FULL(this.#config.maxPendingJobs)
    }
    const job: JobRecord = {
      id: newJobId(),
      mode: 'shell',
      spec,
      status: 'pending',
      submittedAt: now(),
      startedAt: null,
      finishedAt: null,
      pid: null,
      pidStartTime: null,
      exitCode: null,
      signal: null,
      timedOut: false,
      error: null,
      idempotencyKey: idempotencyKey ?? null,
    }
    mkdirSync(jobFiles(this.#config.stateDir, job.id).dir, { recursive: true, mode: 0o700 })
    this.#store.insert(job)
    this.#queue.push(job.id)
    this.#log.debug({ jobId: job.id }, 'job accepted')
    this.#pump()
    return { job, created: true }
  }

  get (id: string): JobRecord | undefined {
    return this.#store.get(id)
  }

  list (limit: number, status?: JobStatus): JobRecord[] {
    return this.#store.list(limit, status)
  }

  count (): number {
    return this.#store.count()
  }

  queuePosition (id: string): number | undefined {
    return this.#queue.positionOf(id)
  }

  isRunning (id: string): boolean {
    return this.#running.has(id)
  }

  stats (): { running: number, pending: number, maxConcurrent: number, maxPending: number } {
    return {
      running: this.#running.size + this.#starting.size,
      pending: this.#queue.size,
      maxConcurrent: this.#config.maxConcurrentJobs,
      maxPending: this.#config.maxPendingJobs,
    }
  }

  /** Calls `listener` once when the job finishes; returns the way to stop listening. */
  onFinished (id: string, listener: () => void): () => void {
    this.#finished.once(id, listener)
    return () => this.#finished.off(id, listener)
  }

  /** Resolves when the job has finished, or after `timeoutMs`, or when `signal` aborts. */
  async waitFinished (id: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const job = this.#store.get(id)
    if (!job || (job.status !== 'pending' && job.status !== 'running')) return
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.#finished.off(id, done)
        signal?.removeEventListener('abort', done)
        resolve()
      }
      const timer = setTimeout(done, timeoutMs)
      this.#finished.on(id, done)
      signal?.addEventListener('abort', done)
    })
  }

  /**
   * Signals the job's whole group: SIGTERM then SIGKILL after the grace (the default), or one given
   * signal. A pending job is cancelled without starting. Ending signals make the job end `cancelled`.
   */
  kill (id: string, signal: NodeJS.Signals = 'SIGTERM'): { job: JobRecord, signalled: string | null } {
    const job = this.#require(id)
    if (this.#queue.remove(id)) {
      this.#record(id, { exitCode: null, signal: null, error: 'cancelled before it started' }, 'cancelled')
      return { job: this.#require(id), signalled: null }
    }
    if (this.#starting.has(id)) {
      this.#cancelWhileStarting.add(id)
      return { job, signalled: 'SIGTERM' }
    }
    const running = this.#running.get(id)
    if (!running) throw new Errors.JOB_NOT_RUNNING(job.status)
    if (signal === 'SIGTERM') {
      this.#terminate(id, 'cancel')
    } else {
      if (ENDING_SIGNALS.has(signal)) running.killReason ??= 'cancel'
      running.process.signal(signal)
    }
    return { job, signalled: signal }
  }

  /** Queues bytes for the job's stdin (never waiting for the job to read them) and optionally closes it. */
  writeStdin (id: string, data: string, eof: boolean): number {
    const job = this.#require(id)
    const running = this.#running.get(id)
    if (!running) throw new Errors.JOB_NOT_RUNNING(job.status)
    const stdin = running.process.stdin
    if (!stdin || !running.stdinOpen || stdin.destroyed || stdin.writableEnded) throw new Errors.STDIN_CLOSED()
    if (stdin.writableLength > STDIN_BUFFER_LIMIT_BYTES) throw new Errors.STDIN_BUSY(STDIN_BUFFER_LIMIT_BYTES)
    const bytes = Buffer.byteLength(data)
    if (bytes > 0) stdin.write(data)
    if (eof) {
      running.stdinOpen = false
      stdin.end()
    }
    return bytes
  }

  /** Writes a newline to stdin (devpilot's nudge) and reports what happened. */
  nudge (id: string): NudgeResult {
    this.#require(id)
    const running = this.#running.get(id)
    if (!running) return { nudged: false, reason: 'process not running', processAlive: false }
    try {
      this.writeStdin(id, '\n', false)
      return { nudged: true, processAlive: true }
    } catch (err) {
      return { nudged: false, reason: (err as Error).message, processAlive: true }
    }
  }

  /** Picks up what an earlier server left: re-adopts live jobs, ends lost ones, queues pending ones. */
  recover (): void {
    for (const job of this.#store.withStatus('running')) {
      const files = jobFiles(this.#config.stateDir, job.id)
      if (job.pid !== null && isSameProcess(job.pid, job.pidStartTime)) {
        this.#log.info({ jobId: job.id, pid: job.pid }, 'job re-adopted')
        this.#watch(job, JobProcess.adopt(job.pid, job.pidStartTime, files), false)
        continue
      }
      const status = readExitFile(files.exit)
      const info: ExitInfo = status !== null
        ? exitInfoFromStatus(status)
        : { exitCode: null, signal: null, error: 'lost: the server stopped while this job ran and its process is gone' }
      this.#record(job.id, info, this.#statusFor(info, null))
      this.#log.info({ jobId: job.id, exitCode: info.exitCode }, 'job ended while no server was running')
    }
    for (const job of this.#store.withStatus('pending')) this.#queue.push(job.id)
    this.#pump()
    this.#prune()
  }

  /** Stops: pending jobs and running ones end `cancelled` ("server stopped"); resolves when all are recorded. */
  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#pruneTimer)
    clearTimeout(this.#pruneScheduled)
    for (const id of this.#queue.drain()) {
      this.#record(id, { exitCode: null, signal: null, error: 'server stopped' }, 'cancelled')
    }
    await Promise.all(this.#starting.values())
    for (const id of this.#running.keys()) this.#terminate(id, 'shutdown')
    await Promise.all([...this.#running.values()].map((r) => r.done))
  }

  #require (id: string): JobRecord {
    const job = this.#store.get(id)
    if (!job) throw new Errors.JOB_NOT_FOUND()
    return job
  }

  #freeSlots (): number {
    return this.#config.maxConcurrentJobs - this.#running.size - this.#starting.size
  }

  #pump (): void {
    while (!this.#closed && this.#freeSlots() > 0) {
      const id = this.#queue.shift()
      if (id === undefined) return
      const start = this.#start(id)
        .catch((err: unknown) => this.#log.error({ err, jobId: id }, 'job start failed'))
        .finally(() => this.#starting.delete(id))
      this.#starting.set(id, start)
    }
  }

  async #start (id: string): Promise<void> {
    const job = this.#store.get(id)
    if (!job || job.status !== 'pending') return
    const { spec } = job
    // Why: recorded before the spawn, so a crash in between can lose the job but never run it twice.
    const startedAt = now()
    this.#store.update(id, { status: 'running', startedAt })
    let process: JobProcess
    try {
      process = await JobProcess.start({
        files: jobFiles(this.#config.stateDir, id),
        command: spec.command,
        shell: spec.shell,
        cwd: spec.workdir,
        env: childEnv(spec.env),
        stdin: spec.stdinEof && spec.stdin === null ? 'ignore' : 'pipe',
      })
    } catch (err) {
      this.#record(id, { exitCode: null, signal: null, error: `cannot start the job: ${(err as Error).message}` }, 'failed')
      return
    }
    this.#store.update(id, { pid: process.pid, pidStartTime: process.startTime })
    this.#log.debug({ jobId: id, pid: process.pid }, 'job started')
    if (spec.stdin !== null) process.stdin?.write(spec.stdin)
    if (spec.stdinEof) process.stdin?.end()
    this.#watch({ ...job, startedAt }, process, !spec.stdinEof)
    if (this.#cancelWhileStarting.delete(id)) this.kill(id)
  }

  #watch (job: JobRecord, process: JobProcess, stdinOpen: boolean): void {
    const { id, spec } = job
    const startedAt = job.startedAt ?? now()
    const timers: NodeJS.Timeout[] = []
    if (spec.timeoutSec > 0) {
      const remainingMs = Math.max(0, (startedAt + spec.timeoutSec - now()) * 1000)
      timers.push(setTimeout(() => this.#terminate(id, 'timeout'), remainingMs))
    }
    if (spec.idleTimeoutSec > 0) {
      const files = jobFiles(this.#config.stateDir, id)
      const checkMs = Math.min(1000, Math.max(50, spec.idleTimeoutSec * 250))
      timers.push(setInterval(() => {
        const last = lastWriteAt([files.stdout, files.stderr]) ?? startedAt
        if (now() - Math.max(last, startedAt) >= spec.idleTimeoutSec) this.#terminate(id, 'idle')
      }, checkMs))
    }
    const done = process.exited
      .then((info) => this.#finish(id, info))
      .catch((err: unknown) => this.#log.error({ err, jobId: id }, 'job finish failed'))
    this.#running.set(id, { process, killReason: null, stdinOpen, timers, done })
  }

  #terminate (id: string, reason: KillReason): void {
    const running = this.#running.get(id)
    if (!running) return
    running.killReason ??= reason
    running.process.terminate(this.#config.killGraceMs)
      .catch((err: unknown) => this.#log.error({ err, jobId: id }, 'kill failed'))
  }

  #statusFor (info: ExitInfo, reason: KillReason | null): JobStatus {
    if (reason === 'timeout' || reason === 'idle') return 'timeout'
    if (reason === 'cancel' || reason === 'shutdown') return 'cancelled'
    return info.exitCode === 0 ? 'completed' : 'failed'
  }

  #finish (id: string, info: ExitInfo): void {
    const running = this.#running.get(id)
    const reason = running?.killReason ?? null
    for (const timer of running?.timers ?? []) clearTimeout(timer)
    this.#running.delete(id)
    const spec = this.#store.get(id)?.spec
    const error = reason === 'timeout'
      ? `timed out after ${spec?.timeoutSec} s`
      : reason === 'idle' ? `no output for ${spec?.idleTimeoutSec} s` : reason === 'shutdown' ? 'server stopped' : info.error
    this.#record(id, { ...info, error }, this.#statusFor(info, reason))
    this.#pump()
    this.#schedulePrune()
  }

  #record (id: string, info: ExitInfo, status: JobStatus): void {
    this.#store.update(id, {
      status,
      finishedAt: now(),
      exitCode: info.exitCode,
      signal: info.signal,
      timedOut: status === 'timeout',
      error: info.error,
    })
    this.#log.info({ jobId: id, status, exitCode: info.exitCode, signal: info.signal }, 'job finished')
    this.#finished.emit(id)
  }

  #schedulePrune (): void {
    if (this.#closed || this.#pruneScheduled) return
    this.#pruneScheduled = setTimeout(() => {
      this.#pruneScheduled = undefined
      this.#prune()
    }, PRUNE_DELAY_MS).unref()
  }

  #prune (): void {
    pruneJobs(this.#store, this.#config.stateDir, this.#config.jobRetention, this.#config.jobRetentionDays, this.#log)
      .catch((err: unknown) => this.#log.error({ err }, 'job retention failed'))
  }
}
