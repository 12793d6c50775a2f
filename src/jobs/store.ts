import { chmodSync, closeSync, openSync } from 'node:fs'
import Database from 'better-sqlite3'
import { FINISHED_STATUSES } from '../contract/job-status.js'
import type { AcpOutcome, JobRecord, JobSpec, JobStatus } from './types.js'
import { WalCheckpointer, type CheckpointFailure } from './wal-checkpointer.js'

interface Row {
  id: string
  mode: string
  spec: string
  status: string
  submitted_at: number
  started_at: number | null
  finished_at: number | null
  pid: number | null
  pid_start_time: string | null
  exit_code: number | null
  signal: string | null
  timed_out: number
  error: string | null
  idempotency_key: string | null
  acp: string | null
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  mode TEXT NOT NULL,
  spec TEXT NOT NULL,
  status TEXT NOT NULL,
  submitted_at REAL NOT NULL,
  started_at REAL,
  finished_at REAL,
  pid INTEGER,
  pid_start_time TEXT,
  exit_code INTEGER,
  signal TEXT,
  timed_out INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  idempotency_key TEXT UNIQUE,
  acp TEXT
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, seq);
`

const fromRow = (row: Row): JobRecord => ({
  id: row.id,
  mode: row.mode as JobRecord['mode'],
  spec: JSON.parse(row.spec) as JobSpec,
  status: row.status as JobStatus,
  submittedAt: row.submitted_at,
  startedAt: row.started_at,
  finishedAt: row.finished_at,
  pid: row.pid,
  pidStartTime: row.pid_start_time,
  exitCode: row.exit_code,
  signal: row.signal,
  timedOut: row.timed_out === 1,
  error: row.error,
  idempotencyKey: row.idempotency_key,
  acp: row.acp === null ? null : JSON.parse(row.acp) as AcpOutcome,
})

// A record with the values an update wrote (as `params` bound them), as a read of the row would give it.
function withUpdate (job: JobRecord, keys: readonly (keyof JobUpdate)[], params: Record<string, unknown>): JobRecord {
  const next: Record<string, unknown> = { ...job }
  for (const k of keys) {
    const value = params[k] ?? null
    next[k] = k === 'timedOut' ? value === 1 : k === 'acp' && value !== null ? JSON.parse(value as string) : value
  }
  return next as unknown as JobRecord
}

/** The fields that change after a job is created. */
export type JobUpdate = Partial<Pick<JobRecord, 'status' | 'startedAt' | 'finishedAt' | 'pid' | 'pidStartTime' | 'exitCode' | 'signal' | 'timedOut' | 'error' | 'idempotencyKey' | 'acp'>>

// Records kept in memory for repeated reads (GET /jobs/:id is polled hard).
const RECORD_CACHE_SIZE = 1000

const COLUMN: Record<keyof JobUpdate, string> = {
  status: 'status',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  pid: 'pid',
  pidStartTime: 'pid_start_time',
  exitCode: 'exit_code',
  signal: 'signal',
  timedOut: 'timed_out',
  error: 'error',
  idempotencyKey: 'idempotency_key',
  acp: 'acp',
}

// Job records in SQLite (WAL): the durable truth that a restarted server reads back.
export class JobStore {
  readonly #db: Database.Database
  readonly #insert: Database.Statement
  readonly #get: Database.Statement<[string], Row>
  readonly #byKey: Database.Statement<[string], Row>
  readonly #byStatus: Database.Statement<[string], Row>
  readonly #count: Database.Statement<[], { n: number }>
  readonly #updates = new Map<string, Database.Statement>()
  // Why: a SQLite read per GET was ~15 % of the CPU of GET /jobs/:id. Only this object writes the
  // jobs table, and every write drops the record from here, so the cache is never stale.
  readonly #cache = new Map<string, JobRecord>()
  readonly #checkpointer: WalCheckpointer

  /** `onCheckpointFailure`: the WAL checkpoint worker failed and checkpoints run on this thread again. */
  constructor (path: string, onCheckpointFailure: CheckpointFailure = () => {}) {
    // Why: SQLite gives its -wal and -shm files the database file's mode, so create it private first.
    closeSync(openSync(path, 'a', 0o600))
    chmodSync(path, 0o600)
    this.#db = new Database(path)
    this.#db.pragma('journal_mode = WAL')
    // Why: NORMAL keeps every commit across a process crash (kill -9); only a power loss can drop the last ones.
    this.#db.pragma('synchronous = NORMAL')
    this.#checkpointer = new WalCheckpointer(this.#db, onCheckpointFailure)
    this.#db.exec(SCHEMA)
    // Why: databases made before ACP jobs existed lack the column.
    const columns = this.#db.prepare<[], { name: string }>('PRAGMA table_info(jobs)').all()
    if (!columns.some((c) => c.name === 'acp')) this.#db.exec('ALTER TABLE jobs ADD COLUMN acp TEXT')
    this.#insert = this.#db.prepare(`INSERT INTO jobs (id, mode, spec, status, submitted_at, idempotency_key)
      VALUES (@id, @mode, @spec, @status, @submittedAt, @idempotencyKey)`)
    this.#get = this.#db.prepare('SELECT * FROM jobs WHERE id = ?')
    this.#byKey = this.#db.prepare('SELECT * FROM jobs WHERE idempotency_key = ?')
    this.#byStatus = this.#db.prepare('SELECT * FROM jobs WHERE status = ? ORDER BY seq')
    this.#count = this.#db.prepare('SELECT count(*) AS n FROM jobs')
  }

  insert (job: JobRecord): void {
    const spec = JSON.stringify(job.spec)
    this.#insert.run({ ...job, spec })
    this.#checkpointer.wrote()
    // Why parsed back: the cached record must be what a read of the row would give.
    this.#remember({ ...job, spec: JSON.parse(spec) as JobSpec })
  }

  /** The job's record (frozen: shared by every reader until the job changes). */
  get (id: string): JobRecord | undefined {
    const cached = this.#cache.get(id)
    if (cached) return cached
    const row = this.#get.get(id)
    if (!row) return undefined
    return this.#remember(fromRow(row))
  }

  findByIdempotencyKey (key: string): JobRecord | undefined {
    const row = this.#byKey.get(key)
    return row && fromRow(row)
  }

  /** Jobs with this status, oldest first. */
  withStatus (status: JobStatus): JobRecord[] {
    return this.#byStatus.all(status).map(fromRow)
  }

  /** Newest first, optionally only one status. */
  list (limit: number, status?: JobStatus): JobRecord[] {
    const rows = status
      ? this.#db.prepare<[string, number], Row>('SELECT * FROM jobs WHERE status = ? ORDER BY seq DESC LIMIT ?').all(status, limit)
      : this.#db.prepare<[number], Row>('SELECT * FROM jobs ORDER BY seq DESC LIMIT ?').all(limit)
    return rows.map(fromRow)
  }

  count (): number {
    return this.#count.get()?.n ?? 0
  }

  update (id: string, fields: JobUpdate): void {
    const keys = (Object.keys(fields) as (keyof JobUpdate)[]).sort()
    const sqlKey = keys.join(',')
    let statement = this.#updates.get(sqlKey)
    if (!statement) {
      statement = this.#db.prepare(`UPDATE jobs SET ${keys.map((k) => `${COLUMN[k]} = @${k}`).join(', ')} WHERE id = @id`)
      this.#updates.set(sqlKey, statement)
    }
    const params: Record<string, unknown> = { id }
    for (const k of keys) {
      params[k] = k === 'timedOut' ? (fields[k] ? 1 : 0) : k === 'acp' ? (fields.acp ? JSON.stringify(fields.acp) : null) : fields[k]
    }
    const cached = this.#cache.get(id)
    this.#cache.delete(id)
    statement.run(params)
    this.#checkpointer.wrote()
    // Why kept up to date rather than dropped: the next read (the job's start, its end, a poll) comes at once.
    if (cached) this.#remember(withUpdate(cached, keys, params))
  }

  /** Deletes the oldest finished jobs beyond `keep`, and those finished before `finishedBefore`; returns their ids. */
  deleteExpired (keep: number, finishedBefore: number): string[] {
    const finished = `status IN (${[...FINISHED_STATUSES].map((status) => `'${status}'`).join(',')})`
    const select = this.#db.prepare<[number, number], { id: string }>(`
      SELECT id FROM jobs WHERE ${finished} AND (finished_at < ? OR seq NOT IN (
        SELECT seq FROM jobs WHERE ${finished} ORDER BY seq DESC LIMIT ?))`)
    const remove = this.#db.prepare('DELETE FROM jobs WHERE id = ?')
    const ids = this.#db.transaction(() => {
      const ids = select.all(finishedBefore, keep).map((r) => r.id)
      for (const id of ids) {
        this.#cache.delete(id)
        remove.run(id)
      }
      return ids
    })()
    if (ids.length > 0) this.#checkpointer.wrote()
    return ids
  }

  #remember (job: JobRecord): JobRecord {
    const record = Object.freeze(job)
    if (this.#cache.size >= RECORD_CACHE_SIZE) this.#cache.delete(this.#cache.keys().next().value as string)
    this.#cache.set(job.id, record)
    return record
  }

  close (): void {
    // Why not awaited: the worker ends by itself after closing its connection; close stays synchronous.
    this.#checkpointer.close().catch(() => { /* it ends anyway */ })
    if (this.#db.open) this.#db.close()
  }
}
