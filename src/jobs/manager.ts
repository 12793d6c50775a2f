import type { Config } from '../config.js'
import { Errors } from '../errors.js'
import { jobFiles, type JobFiles } from '../exec/job-files.js'
import type { Logger } from '../logger.js'
import type { UpdateBlocker } from '../update/coordinator.js'
import { nowSeconds } from '../lib/clock.js'
import type { AcpJobRunner, AcpLiveState } from './acp-runner.js'
import { JobAdmission } from './admission.js'
import { buildDefaultKinds } from './default-kinds.js'
import { FinishNotices } from './finish-notices.js'
import type { JobKind, JobKindHost } from './kind.js'
import { outcomeOf, type JobEnd } from './outcome.js'
import { RetentionSweeper } from './retention.js'
import { JobControl, type NudgeResult } from './job-control.js'
import { JobScheduler, type SchedulerStats } from './scheduler.js'
import type { SessionPool } from '../sessions/pool.js'
import type { AcpSessionRegistry } from '../acp-sessions/registry.js'
import { JobRecords } from './records.js'
import type { StorageHealth } from './storage-state.js'
import type { JobStore } from './store.js'
import { isFinished, type JobMode, type JobRecord, type JobSpec, type JobStatus } from './types.js'

/** Builds the kinds of job a manager runs (tests pass their own). */
export type JobKindsFactory = (host: JobKindHost) => Record<JobMode, JobKind>

// Runs jobs of every kind: finish and stop here; admission in admission.ts, queue, start and recovery in scheduler.ts,
// kill/stdin/resize/nudge in job-control.ts. The only writer of job records; a kind's process is its business (kind.ts).
export class JobManager {
  readonly #config: Config
  readonly #store: JobStore
  readonly #log: Logger
  readonly #kinds: Record<JobMode, JobKind>
  readonly #acp: AcpJobRunner | undefined
  readonly #sessions: SessionPool | undefined
  readonly #acpSessions: AcpSessionRegistry | undefined
  readonly #records: JobRecords
  readonly #scheduler: JobScheduler
  readonly #control: JobControl
  readonly #admission: JobAdmission
  readonly #notices = new FinishNotices()
  readonly #retention: RetentionSweeper
  #closed = false

  constructor (config: Config, store: JobStore, log: Logger, makeKinds?: JobKindsFactory) {
    this.#config = config
    this.#store = store
    this.#log = log
    this.#records = new JobRecords(store, log, () => this.#scheduler.pump())
    const host: JobKindHost = {
      files: (id) => this.files(id),
      killGraceMs: config.killGraceMs,
      acpAgents: config.acpAgents,
      log,
      ended: (id, end) => this.#ended(id, end),
      progress: (id, fields) => this.#records.update(id, fields),
      pump: () => { this.#scheduler.pumpSoon() },
    }
    if (makeKinds) {
      this.#kinds = makeKinds(host)
    } else {
      const built = buildDefaultKinds(config, host, log)
      this.#sessions = built.sessions
      this.#acpSessions = built.acpSessions
      this.#acp = built.acp
      this.#kinds = built.kinds
    }
    this.#scheduler = new JobScheduler({ config, store, records: this.#records, kinds: this.#kinds, log, ended: (id, end) => this.#ended(id, end) })
    this.#control = new JobControl({ kinds: this.#kinds, scheduler: this.#scheduler, store, require: (id) => this.#require(id), end: (id, end) => this.#end(id, end) })
    const takeFolder = (job: JobRecord, dir: string): boolean => this.#kinds[job.mode].takeFolder?.(job, dir) === true
    this.#admission = new JobAdmission({ config, records: this.#records, scheduler: this.#scheduler, log, files: (id) => this.files(id), takeFolder })
    this.#retention = new RetentionSweeper({
      store, files: (id) => this.files(id), keep: config.jobRetention, maxAgeDays: config.jobRetentionDays, log,
    })
  }

  /**
   * Accepts a job (or finds the one this idempotency key already made); it starts when a slot is free.
   * A full or read-only state dir refuses it (DISK_FULL, STATE_READ_ONLY) and leaves nothing behind.
   */
  submit (spec: JobSpec, idempotencyKey?: string): { job: JobRecord, created: boolean } {
    return this.#admission.submit(spec, idempotencyKey)
  }

  /** Calls `listener` for every job accepted from now on, whatever the route (HTTP, SSE, MCP). */
  onSubmitted (listener: (job: JobRecord) => void): void {
    this.#admission.onSubmitted(listener)
  }

  /** Where job `id` keeps its output and exit status: the one place job paths are decided. */
  files (id: string): JobFiles {
    return jobFiles(this.#config.stateDir, id)
  }

  /** The job as it really is: its record, with any end not yet saved (full disk) shown on it. */
  get (id: string): JobRecord | undefined {
    return this.#records.get(id)
  }

  list (limit: number, status?: JobStatus): JobRecord[] {
    return this.#records.list(limit, status)
  }

  count (): number {
    return this.#store.count()
  }

  queuePosition (id: string): number | undefined {
    return this.#scheduler.queue.positionOf(id)
  }

  /** While the job's process is being started: a promise that settles once it has been; else undefined. */
  starting (id: string): Promise<void> | undefined {
    return this.#scheduler.starting(id)
  }

  isRunning (id: string): boolean {
    return Object.values(this.#kinds).some((kind) => kind.has(id))
  }

  /** A running ACP job's session id and tool calls so far. */
  acpLive (id: string): AcpLiveState | undefined {
    return this.#acp?.live(id)
  }

  /** The persistent shell sessions (GET /sessions); undefined when a test built the manager with its own kinds. */
  get sessions (): SessionPool | undefined {
    return this.#sessions
  }

  /** The warm ACP sessions (/acp/sessions); undefined when a test built the manager with its own kinds. */
  get acpSessions (): AcpSessionRegistry | undefined {
    return this.#acpSessions
  }

  /** Answers a permission request of a running ACP job (policy `ask`). */
  answerPermission (id: string, requestId: string, optionId: string): void {
    this.#control.answerPermission(id, requestId, optionId)
  }

  /** The kinds whose jobs cannot survive a restart: each blocks POST /update while it runs jobs. */
  updateBlockers (): UpdateBlocker[] {
    return this.#scheduler.updateBlockers()
  }

  stats (): SchedulerStats {
    return this.#scheduler.stats()
  }

  /** The state directory's storage now, and the jobs whose changes wait for it (GET /health). */
  storage (): StorageHealth {
    return this.#records.storage(this.#config.stateDir)
  }

  /** Calls `listener` once when the job finishes; returns the way to stop listening. */
  onFinished (id: string, listener: () => void): () => void {
    return this.#notices.onFinished(id, listener)
  }

  /** Resolves when the job has finished, or after `timeoutMs`, or when `signal` aborts. */
  async waitFinished (id: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const job = this.get(id)
    if (job && !isFinished(job)) await this.#notices.wait(id, timeoutMs, signal)
  }

  /** Signals (or cancels, when pending) the job; see JobControl.kill. */
  kill (id: string, signal: NodeJS.Signals = 'SIGTERM'): { job: JobRecord, signalled: string | null } {
    return this.#control.kill(id, signal)
  }

  /** Queues bytes for the job's stdin (never waiting for the job to read them) and optionally closes it. */
  writeStdin (id: string, data: string | Buffer, eof: boolean): Promise<number> {
    return this.#control.writeStdin(id, data, eof)
  }

  /** Changes the window size of a running tty job's terminal (the program gets SIGWINCH). */
  resize (id: string, cols: number, rows: number): Promise<void> {
    return this.#control.resize(id, cols, rows)
  }

  /** Writes a newline to stdin (devpilot's nudge) and reports what happened. */
  nudge (id: string): Promise<NudgeResult> {
    return this.#control.nudge(id)
  }

  /** Picks up what an earlier server left: re-adopts live jobs, ends lost ones, queues pending ones. */
  recover (): void {
    this.#scheduler.recover((id, end) => this.#end(id, end))
    this.#retention.now()
  }

  /** Stops for a restart (self-update), killing nothing: the next server re-adopts running jobs and starts pending ones. */
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
    this.#scheduler.stopStarting()
    this.#retention.close()
    this.releaseWaiters()
    if (mode === 'cancel') {
      for (const id of this.#scheduler.queue.drain()) this.#end(id, { type: 'not-started', why: 'server-stopped' })
    }
    await this.#scheduler.startsSettled()
    const kinds = Object.values(this.#kinds)
    if (mode === 'detach') for (const kind of kinds) kind.detachAll()
    await Promise.all(kinds.map((kind) => kind.stopAll()))
    // Why after the kinds: their running turns have ended; warm agents cannot outlive the server, their sessions can.
    await this.#acpSessions?.closeAll()
    this.#records.close()
  }

  #require (id: string): JobRecord {
    const job = this.get(id)
    if (!job) throw new Errors.JOB_NOT_FOUND()
    return job
  }

  #ended (id: string, end: JobEnd): void {
    try {
      this.#end(id, end)
    } catch (err) {
      this.#log.error({ err, jobId: id }, 'recording the end of a job failed')
    }
    this.#scheduler.pump()
    this.#retention.soon()
  }

  #end (id: string, end: JobEnd): void {
    this.#scheduler.active.delete(id)
    const spec = this.#store.get(id)?.spec ?? { timeoutSec: 0, idleTimeoutSec: 0 }
    const { status, exitCode, signal, error, timedOut, acp } = outcomeOf(end, spec)
    this.#records.update(id, { status, finishedAt: nowSeconds(), exitCode, signal, timedOut, error, ...(acp ? { acp } : {}) })
    this.#log.info({ jobId: id, status, exitCode, signal }, 'job finished')
    this.#notices.notify(id)
  }
}
