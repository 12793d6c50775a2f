import { customAlphabet } from 'nanoid'
import type { Config } from '../config.js'
import { Errors } from '../errors.js'
import type { JobFiles } from '../exec/job-files.js'
import type { Logger } from '../logger.js'
import { nowSeconds } from '../lib/clock.js'
import type { JobRecords } from './records.js'
import type { JobScheduler } from './scheduler.js'
import { newJobRecord, type JobRecord, type JobSpec } from './types.js'

// Why: devpilot job ids are 12 hex characters and callers may rely on the shape.
const newJobId = customAlphabet('0123456789abcdef', 12)
const IDEMPOTENCY_WINDOW_SEC = 24 * 3600

/** What admission needs from the manager that owns it. */
export interface JobAdmissionDeps {
  config: Config
  records: JobRecords
  scheduler: JobScheduler
  log: Logger
  /** Where job `id` keeps its output and exit status. */
  files: (id: string) => JobFiles
  /** Moves a folder its kind made ahead of time to `dir`; false when there is none. */
  takeFolder: (job: JobRecord, dir: string) => boolean
}

/** Accepts jobs: idempotency keys, the limit of pending jobs, the new record and its folder, and who hears of each. */
export class JobAdmission {
  readonly #deps: JobAdmissionDeps
  readonly #listeners = new Set<(job: JobRecord) => void>()

  constructor (deps: JobAdmissionDeps) {
    this.#deps = deps
  }

  /**
   * Accepts a job (or finds the one this idempotency key already made); it starts when a slot is free.
   * A full or read-only state dir refuses it (DISK_FULL, STATE_READ_ONLY) and leaves nothing behind.
   */
  submit (spec: JobSpec, idempotencyKey?: string): { job: JobRecord, created: boolean } {
    const { config, records, scheduler, log } = this.#deps
    if (idempotencyKey) {
      const existing = records.findByIdempotencyKey(idempotencyKey)
      if (existing && existing.submittedAt > nowSeconds() - IDEMPOTENCY_WINDOW_SEC) return { job: existing, created: false }
      if (existing) records.updateNow(existing.id, { idempotencyKey: null })
    }
    // Why: jobs queued earlier in this loop turn have not claimed their slots yet; they will.
    if (scheduler.queue.size - scheduler.freeSlots() >= config.maxPendingJobs) {
      throw new Errors.QUEUE_FULL(config.maxPendingJobs)
    }
    const job = newJobRecord(newJobId(), spec, idempotencyKey ?? null)
    const dir = this.#deps.files(job.id).dir
    records.create(job, dir, () => this.#deps.takeFolder(job, dir))
    scheduler.queue.push(job.id)
    log.debug({ jobId: job.id }, 'job accepted')
    for (const listener of this.#listeners) {
      try { listener(job) } catch (err) { log.error({ err, jobId: job.id }, 'a job-accepted listener failed') }
    }
    // Why at once and not after the answer: with the launcher a start is a pipe write, and the job
    // runs while the answer travels; a start that blocks (Node's spawn) blocks as long either way.
    scheduler.pump()
    return { job, created: true }
  }

  /** Calls `listener` for every job accepted from now on, whatever the route (HTTP, SSE, MCP). */
  onSubmitted (listener: (job: JobRecord) => void): void {
    this.#listeners.add(listener)
  }
}
