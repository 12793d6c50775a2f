import type { Config } from '../config.js'
import type { Logger } from '../logger.js'
import { nowSeconds } from '../lib/clock.js'
import type { JobKind, StartedProcess } from './kind.js'
import type { JobEnd } from './outcome.js'
import { JobQueue } from './queue.js'
import type { JobRecords } from './records.js'
import type { JobStore } from './store.js'
import type { JobMode } from './types.js'
import { errorMessage } from '../lib/error-message.js'
import type { UpdateBlocker } from '../update/coordinator.js'

/** What the scheduler needs from the manager that owns it. */
export interface JobSchedulerDeps {
  config: Config
  store: JobStore
  records: JobRecords
  kinds: Record<JobMode, JobKind>
  log: Logger
  /** Records a job's end (and pumps again). */
  ended: (id: string, end: JobEnd) => void
}

/** What GET /health and /metrics tell of the queue. */
export interface SchedulerStats { running: number, pending: number, maxConcurrent: number, maxPending: number }

/** The FIFO queue of pending jobs, the run slots, and the start path that moves a job from one to the other. */
export class JobScheduler {
  readonly #config: Config
  readonly #store: JobStore
  readonly #records: JobRecords
  readonly #kinds: Record<JobMode, JobKind>
  readonly #log: Logger
  readonly #ended: (id: string, end: JobEnd) => void
  /** Pending job ids in submission order. */
  readonly queue = new JobQueue()
  /** Jobs holding a run slot: from the start until their end is reported. */
  readonly active = new Set<string>()
  readonly #starting = new Map<string, Promise<void>>()
  /** Signals asked for while a job was starting: delivered once it runs. */
  readonly #signalsWhileStarting = new Map<string, NodeJS.Signals[]>()
  #closed = false
  #pumpScheduled = false

  constructor (deps: JobSchedulerDeps) {
    this.#config = deps.config
    this.#store = deps.store
    this.#records = deps.records
    this.#kinds = deps.kinds
    this.#log = deps.log
    this.#ended = deps.ended
  }

  /** While the job's process is being started: a promise that settles once it has been; else undefined. */
  starting (id: string): Promise<void> | undefined {
    return this.#starting.get(id)
  }

  /** Keeps `signal` for a job being started; it is delivered once the job runs. False when the job is not starting. */
  signalWhenStarted (id: string, signal: NodeJS.Signals): boolean {
    if (!this.#starting.has(id)) return false
    this.#signalsWhileStarting.set(id, [...this.#signalsWhileStarting.get(id) ?? [], signal])
    return true
  }

  /**
   * The kinds whose jobs cannot survive a restart: each blocks POST /update while it runs jobs.
   * Queued jobs of a kind start again as soon as it accepts again.
   */
  updateBlockers (): UpdateBlocker[] {
    return Object.values(this.#kinds).flatMap((kind) => {
      const blocker = kind.updateBlocker?.()
      if (!blocker) return []
      return [{
        ...blocker,
        setAccepting: (accepting: boolean) => {
          blocker.setAccepting(accepting)
          if (accepting) this.pumpSoon()
        },
      }]
    })
  }

  /** Running and queued jobs, against the limits. */
  stats (): SchedulerStats {
    return {
      running: this.active.size,
      pending: this.queue.size,
      maxConcurrent: this.#config.maxConcurrentJobs,
      maxPending: this.#config.maxPendingJobs,
    }
  }

  /**
   * Picks up what an earlier server left: each running job is handed to its kind to re-adopt (or
   * `end`ed when it is lost), pending ones are queued again, and the queue starts.
   */
  recover (end: (id: string, end: JobEnd) => void): void {
    for (const job of this.#store.withStatus('running')) {
      this.active.add(job.id)
      const ended = this.#kinds[job.mode].adopt(job)
      if (ended) end(job.id, ended)
    }
    for (const kind of Object.values(this.#kinds)) kind.adopted?.()
    for (const job of this.#store.withStatus('pending')) this.queue.push(job.id)
    this.pump()
  }

  /** Run slots not taken. */
  freeSlots (): number {
    return this.#config.maxConcurrentJobs - this.active.size
  }

  /** Starts nothing more from now on. */
  stopStarting (): void {
    this.#closed = true
  }

  /** Resolves when every start under way has settled. */
  async startsSettled (): Promise<void> {
    await Promise.all(this.#starting.values())
  }

  /** Pumps on the next turn of the loop, once however many times it is asked (from code that must not start jobs itself). */
  pumpSoon (): void {
    if (this.#pumpScheduled) return
    this.#pumpScheduled = true
    setImmediate(() => {
      this.#pumpScheduled = false
      this.pump()
    })
  }

  /** Starts queued jobs while slots are free (and the disk takes records). */
  pump (): void {
    // Why: with the disk full, starting jobs would only fail to record it; they wait for the retry.
    while (!this.#closed && !this.#records.failing && this.freeSlots() > 0) {
      const kinds = Object.values(this.#kinds)
      // Why: while an update drains, jobs of kinds that block it stay queued and the others go on;
      // a session's next command waits while its previous one runs, other jobs go past it.
      const id = this.queue.shift(kinds.every((kind) => kind.accepting !== false && kind.selective !== true)
        ? undefined
        : (id) => {
            const job = this.#store.get(id)
            if (job === undefined) return true
            const kind = this.#kinds[job.mode]
            return kind.accepting !== false && (kind.ready?.(job) ?? true)
          })
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
    const startedAt = nowSeconds()
    try {
      this.#store.update(id, { status: 'running', startedAt })
    } catch (err) {
      // Why not a kept write: a job must not run before `running` is durable; it waits first in line.
      if (!this.#records.noteFailure(err)) throw err
      this.queue.pushFront(id)
      return
    }
    this.active.add(id)
    const kind = this.#kinds[job.mode]
    let started: StartedProcess
    let signals: NodeJS.Signals[] = []
    try {
      started = await kind.start({ ...job, status: 'running', startedAt })
    } catch (err) {
      this.#ended(id, { type: 'start-failed', message: errorMessage(err) })
      return
    } finally {
      signals = this.#signalsWhileStarting.get(id) ?? []
      this.#signalsWhileStarting.delete(id)
    }
    // Why: a run can end before its start resolves (an ACP agent that never spawned, a session
    // command done at once): its end is recorded already; a process it had is still worth showing.
    if (!this.active.has(id)) {
      if (started.pid !== null) this.#records.update(id, { pid: started.pid, pidStartTime: started.startTime })
      return
    }
    this.#records.update(id, { pid: started.pid, pidStartTime: started.startTime })
    this.#log.debug({ jobId: id, pid: started.pid }, 'job started')
    for (const signal of signals) kind.signal(id, signal)
  }
}
