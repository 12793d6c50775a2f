import { mkdirSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { Logger } from '../logger.js'
import { storageProblemOf, toStorageApiError, type StorageProblem } from './storage-errors.js'
import { probeStorage, type StorageHealth } from './storage-state.js'
import type { JobStore, JobUpdate } from './store.js'
import type { JobRecord, JobStatus } from './types.js'

// How often writes that failed for lack of space (or a read-only state dir) are tried again.
const STORAGE_RETRY_MS = 1000
const UNSAVED_END_NOTE = 'its end is not saved yet (the state directory cannot be written); retrying'

/**
 * The manager's way to read and write job records when the state dir may be full or read-only:
 * a write that fails so is kept, shown by every read, and retried until it is saved.
 */
export class JobRecords {
  readonly #store: JobStore
  readonly #log: Logger
  readonly #onSaved: () => void
  readonly #unsaved = new Map<string, JobUpdate>()
  #retry: NodeJS.Timeout | undefined
  /** A storage failure was logged and no write has succeeded since. */
  #outage = false
  /** What the last failed write of a kept change met. */
  #problem: StorageProblem = 'full'
  #closed = false

  /** `onSaved` runs once every kept write is saved after a failure (work held back can go on). */
  constructor (store: JobStore, log: Logger, onSaved: () => void) {
    this.#store = store
    this.#log = log
    this.#onSaved = onSaved
  }

  /** True while writes fail for lack of space: starting work would only fail to be recorded. */
  get failing (): boolean {
    return this.#retry !== undefined
  }

  /**
   * The storage of `stateDir` now, or what stops the kept changes while some wait (a quota, say,
   * that the file system's free space does not show); and how many jobs have such a change.
   */
  storage (stateDir: string): StorageHealth {
    const now = probeStorage(stateDir, [stateDir, join(stateDir, 'jobs')])
    return { ...now, state: now.state === 'ok' && this.failing ? this.#problem : now.state, unsavedJobs: this.#unsaved.size }
  }

  /** The job as it really is: its record, with any change not yet saved shown on it. */
  get (id: string): JobRecord | undefined {
    const job = this.#store.get(id)
    return job && this.#withUnsaved(job)
  }

  list (limit: number, status?: JobStatus): JobRecord[] {
    return this.#store.list(limit, status).map((job) => this.#withUnsaved(job))
  }

  findByIdempotencyKey (key: string): JobRecord | undefined {
    const job = this.#store.findByIdempotencyKey(key)
    return job && this.#withUnsaved(job)
  }

  /**
   * Creates the job's folder (unless `takeFolder` moved a prepared one there) and record for a
   * request: a full or read-only state dir throws the request's 507/503 and leaves neither behind.
   */
  create (job: JobRecord, dir: string, takeFolder: () => boolean = () => false): void {
    try {
      if (!takeFolder()) makeJobDir(dir)
      this.#store.insert(job)
    } catch (err) {
      try { rmSync(dir, { recursive: true, force: true }) } catch { /* the original error is the one to report */ }
      throw toStorageApiError(err)
    }
  }

  /** A write for a request: a full or read-only state dir throws the request's 507/503. */
  updateNow (id: string, fields: JobUpdate): void {
    try {
      this.#store.update(id, fields)
    } catch (err) {
      throw toStorageApiError(err)
    }
  }

  /** A write that must not be lost: on a full or read-only state dir it is kept and retried. */
  update (id: string, fields: JobUpdate): void {
    const unsaved = this.#unsaved.get(id)
    if (unsaved) {
      this.#unsaved.set(id, { ...unsaved, ...fields })
      return
    }
    try {
      this.#store.update(id, fields)
      this.#outage = false
    } catch (err) {
      if (!this.noteFailure(err)) throw err
      this.#unsaved.set(id, fields)
    }
  }

  /** True (and a retry armed) when `err` is a full or read-only state dir; false for any other error. */
  noteFailure (err: unknown): boolean {
    const problem = storageProblemOf(err)
    if (!problem) return false
    this.#problem = problem
    // Why once: while the disk stays full every retry fails again; one line per outage is enough.
    if (!this.#outage) this.#log.error({ err }, problem === 'full' ? 'the disk of the state directory is full; retrying' : 'the state directory is read-only; retrying')
    this.#outage = true
    if (this.#retry !== undefined || this.#closed) return true
    this.#retry = setInterval(() => {
      try {
        if (!this.#saveUnsaved()) return
        clearInterval(this.#retry)
        this.#retry = undefined
        this.#onSaved()
      } catch (err) {
        this.#log.error({ err }, 'saving job records failed')
      }
    }, STORAGE_RETRY_MS).unref()
    return true
  }

  /** Stops retrying after one last try; what is still unsaved is logged. */
  close (): void {
    this.#closed = true
    clearInterval(this.#retry)
    this.#retry = undefined
    try { this.#saveUnsaved() } catch (err) { this.#log.error({ err }, 'saving job records failed') }
    for (const id of this.#unsaved.keys()) this.#log.error({ jobId: id }, 'a change to this job could not be saved before the server stopped')
  }

  /** Tries the kept writes again; true when none is left. */
  #saveUnsaved (): boolean {
    for (const [id, fields] of this.#unsaved) {
      try {
        this.#store.update(id, fields)
      } catch (err) {
        if (storageProblemOf(err)) return false
        throw err
      }
      this.#unsaved.delete(id)
      this.#outage = false
      this.#log.info({ jobId: id }, 'job record saved after a storage failure')
    }
    return true
  }

  #withUnsaved (job: JobRecord): JobRecord {
    const unsaved = this.#unsaved.get(job.id)
    if (!unsaved) return job
    if (unsaved.finishedAt === undefined) return { ...job, ...unsaved }
    const error = unsaved.error !== undefined ? unsaved.error : job.error
    return { ...job, ...unsaved, error: error ? `${error}; ${UNSAVED_END_NOTE}` : UNSAVED_END_NOTE }
  }
}

// Why not one recursive mkdir: on a read-only file system it fails with ENOENT instead of EROFS.
// Why the job's folder first: its parent exists but for the first job, and a recursive mkdir of
// an existing folder costs two system calls on every submit.
function makeJobDir (dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    mkdirSync(dirname(dir), { recursive: true, mode: 0o700 })
    mkdirSync(dir, { mode: 0o700 })
  }
}
