import { mkdirSync } from 'node:fs'
import { customAlphabet } from 'nanoid'
import type { Config } from '../config.js'
import { Errors } from '../errors.js'
import { jobFiles } from '../exec/job-files.js'
import type { Logger } from '../logger.js'
import type { UpdateBlocker } from '../update/coordinator.js'
import { AcpJobRunner, type AcpLiveState } from './acp-runner.js'
import { FinishNotices } from './finish-notices.js'
import { JobQueue } from './queue.js'
import { RetentionSweeper } from './retention.js'
import { JobRunner, type KillReason } from './runner.js'
import type { JobStore } from './store.js'
import { isFinished, newJobRecord, type ExitInfo, type JobRecord, type JobSpec, type JobStatus } from './types.js'

// Why: devpilot job ids are 12 hex characters and callers may rely on the shape.
const newJobId = customAlphabet('0123456789abcdef', 12)
const IDEMPOTENCY_WINDOW_SEC = 24 * 3600
const now = (): number => Date.now() / 1000

/** The answer of POST /jobs/:id/nudge, in devpilot's shape. */
export type NudgeResult = { nudged: true, processAlive: true } | { nudged: false, reason: string, processAlive: boolean }

// Runs jobs (shell and ACP): admission, FIFO queue, start, limits, kill, stdin, finish, recovery.
export class JobManager {
  readonly #config: Config
  readonly #store: JobStore
  readonly #log: Logger
  readonly #queue = new JobQueue()
  readonly #runner: JobRunner
  readonly #acp: AcpJobRunner
  readonly #starting = new Map<string, Promise<void>>()
  readonly #cancelWhileStarting = new Set<string>()
  readonly #notices = new FinishNotices()
  readonly #retention: RetentionSweeper
  #closed = false
  #pumpScheduled = false

  constructor (config: Config, store: JobStore, log: Logger) {
    this.#config = config
    this.#store = store
    this.#log = log
    this.#runner = new JobRunner({
      stateDir: config.stateDir,
      killGraceMs: config.killGraceMs,
      log,
      onExit: (id, info, reason) => this.#finish(id, info, reason),
    })
    this.#acp = new AcpJobRunner({
      stateDir: config.stateDir,
      killGraceMs: config.killGraceMs,
      store,
      log,
      onExit: (id, info, reason) => this.#finish(id, info, reason),
    })
    this.#retention = new RetentionSweeper({
      store,
      stateDir: config.stateDir,
      keep: config.jobRetention,
      maxAgeDays: config.jobRetentionDays,
      log,
    })
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
    const job = newJobRecord(newJobId(), spec, idempotencyKey ?? null)
    mkdirSync(jobFiles(this.#config.stateDir, job.id).dir, { recursive: true, mode: 0o700 })
    this.#store.insert(job)
    this.#queue.push(job.id)
    this.#log.debug({ jobId: job.id }, 'job accepted')
    this.#pumpSoon()
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

  /** While the job's process is being started: a promise that settles once it has been; else undefined. */
  starting (id: string): Promise<void> | undefined {
    return this.#starting.get(id)
  }

  isRunning (id: string): boolean {
    return this.#runner.has(id) || this.#acp.has(id)
  }

  /** A running ACP job's session id and tool calls so far. */
  acpLive (id: string): AcpLiveState | undefined {
    return this.#acp.live(id)
  }

  /** Answers a permission request of a running ACP job (policy `ask`). */
  answerPermission (id: string, requestId: string, optionId: string): void {
    const job = this.#require(id)
    if (job.mode !== 'acp') throw new Errors.NOT_AN_ACP_JOB()
    this.#acp.answer(id, requestId, optionId)
  }

  /** ACP jobs cannot survive a restart: while they run, POST /update answers 409 (devpilot's shape). */
  acpUpdateBlocker (): UpdateBlocker {
    return {
      error: 'cannot update while ACP jobs are running',
      countKey: 'acp_jobs',
      count: () => this.#acp.size,
      setAccepting: (accepting) => {
        this.#acp.accepting = accepting
        if (accepting) this.#pumpSoon()
      },
    }
  }

  stats (): { running: number, pending: number, maxConcurrent: number, maxPending: number } {
    return {
      running: this.#runner.size + this.#acp.size + this.#starting.size,
      pending: this.#queue.size,
      maxConcurrent: this.#config.maxConcurrentJobs,
      maxPending: this.#config.maxPendingJobs,
    }
  }

  /** Calls `listener` once when the job finishes; returns the way to stop listening. */
  onFinished (id: string, listener: () => void): () => void {
    return this.#notices.onFinished(id, listener)
  }

  /** Resolves when the job has finished, or after `timeoutMs`, or when `signal` aborts. */
  async waitFinished (id: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const job = this.#store.get(id)
    if (job && !isFinished(job)) await this.#notices.wait(id, timeoutMs, signal)
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
    if (this.#acp.has(id)) this.#acp.signal(id, signal)
    else if (this.#runner.has(id)) this.#runner.signal(id, signal)
    else throw new Errors.JOB_NOT_RUNNING(job.status)
    return { job, signalled: signal }
  }

  /** Queues bytes for the job's stdin (never waiting for the job to read them) and optionally closes it. */
  async writeStdin (id: string, data: string, eof: boolean): Promise<number> {
    const job = this.#require(id)
    if (job.mode === 'acp') throw new Errors.STDIN_CLOSED()
    // Why: a job is started by the launcher asynchronously; input sent meanwhile waits for it.
    await this.#starting.get(id)
    if (!this.#runner.has(id)) throw new Errors.JOB_NOT_RUNNING(this.#store.get(id)?.status ?? job.status)
    return this.#runner.writeStdin(id, data, eof)
  }

  /** Writes a newline to stdin (devpilot's nudge) and reports what happened. */
  async nudge (id: string): Promise<NudgeResult> {
    this.#require(id)
    await this.#starting.get(id)
    if (!this.#runner.has(id)) return { nudged: false, reason: 'process not running', processAlive: false }
    try {
      await this.writeStdin(id, '\n', false)
      return { nudged: true, processAlive: true }
    } catch (err) {
      return { nudged: false, reason: (err as Error).message, processAlive: true }
    }
  }

  /** Picks up what an earlier server left: re-adopts live jobs, ends lost ones, queues pending ones. */
  recover (): void {
    for (const job of this.#store.withStatus('running')) {
      const ended = job.mode === 'acp' ? this.#acp.lost(job) : this.#runner.resume(job)
      if (ended) this.#record(job.id, ended, this.#statusFor(ended, null))
    }
    for (const job of this.#store.withStatus('pending')) this.#queue.push(job.id)
    this.#pump()
    this.#retention.now()
  }

  /**
   * Stops for a restart (self-update): nothing is killed or cancelled. Running jobs keep running and
   * pending ones stay queued in the store; the next server re-adopts and starts them.
   */
  detach (): Promise<void> {
    return this.#stop('detach')
  }

  /** Stops: pending jobs and running ones end `cancelled` ("server stopped"); resolves when all are recorded. */
  close (): Promise<void> {
    return this.#stop('cancel')
  }

  /** Ends every long-poll now (they answer with the job as it is), so that HTTP can close. */
  releaseWaiters (): void {
    this.#notices.releaseAll()
  }

  async #stop (mode: 'detach' | 'cancel'): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#retention.close()
    this.releaseWaiters()
    if (mode === 'cancel') {
      for (const id of this.#queue.drain()) this.#record(id, { exitCode: null, signal: null, error: 'server stopped' }, 'cancelled')
    }
    await Promise.all(this.#starting.values())
    if (mode === 'detach') this.#runner.detachAll()
    await Promise.all([mode === 'cancel' && this.#runner.stopAll(), this.#acp.stopAll()])
  }

  #require (id: string): JobRecord {
    const job = this.#store.get(id)
    if (!job) throw new Errors.JOB_NOT_FOUND()
    return job
  }

  #freeSlots (): number {
    return this.#config.maxConcurrentJobs - this.#runner.size - this.#acp.size - this.#starting.size
  }

  // Why: forking blocks the event loop for milliseconds; doing it after the 202 is written keeps submits fast.
  #pumpSoon (): void {
    if (this.#pumpScheduled) return
    this.#pumpScheduled = true
    setImmediate(() => {
      this.#pumpScheduled = false
      this.#pump()
    })
  }

  #pump (): void {
    while (!this.#closed && this.#freeSlots() > 0) {
      // Why: while an update drains, ACP jobs stay queued (they would block it) and shell jobs go on.
      const id = this.#queue.shift(this.#acp.accepting ? undefined : (id) => this.#store.get(id)?.mode !== 'acp')
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
    // Why: recorded before the spawn, so a crash in between can lose the job but never run it twice.
    const startedAt = now()
    this.#store.update(id, { status: 'running', startedAt })
    let process: { pid: number | null, startTime: string | null }
    try {
      process = await (job.mode === 'acp' ? this.#acp : this.#runner).start({ ...job, startedAt })
    } catch (err) {
      this.#record(id, { exitCode: null, signal: null, error: `cannot start the job: ${(err as Error).message}` }, 'failed')
      return
    }
    this.#store.update(id, { pid: process.pid, pidStartTime: process.startTime })
    this.#log.debug({ jobId: id, pid: process.pid }, 'job started')
    if (this.#cancelWhileStarting.delete(id)) {
      // Why: while the id is in #starting, kill() would only queue the cancel again, and it would be lost.
      this.#starting.delete(id)
      this.kill(id)
    }
  }

  #statusFor (info: ExitInfo, reason: KillReason | null): JobStatus {
    if (reason === 'timeout' || reason === 'idle') return 'timeout'
    if (reason === 'cancel' || reason === 'shutdown') return 'cancelled'
    return info.exitCode === 0 ? 'completed' : 'failed'
  }

  #finish (id: string, info: ExitInfo, reason: KillReason | null): void {
    const spec = this.#store.get(id)?.spec
    const error = reason === 'timeout'
      ? `timed out after ${spec?.timeoutSec} s`
      : reason === 'idle' ? `no output for ${spec?.idleTimeoutSec} s` : reason === 'shutdown' ? 'server stopped' : info.error
    this.#record(id, { ...info, error }, this.#statusFor(info, reason))
    this.#pump()
    this.#retention.soon()
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
    this.#notices.notify(id)
  }
}
