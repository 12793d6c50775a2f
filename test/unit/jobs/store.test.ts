import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, test } from 'node:test'
import Database from 'better-sqlite3'
import { JobStore } from '../../../src/jobs/store.js'
import { newJobRecord, type JobRecord, type JobStatus } from '../../../src/jobs/types.js'

let dir: string
let path: string
let store: JobStore

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'agent-runtime-store-'))
  path = join(dir, 'jobs.db')
  store = new JobStore(path)
})

afterEach(() => {
  store.close()
  rmSync(dir, { recursive: true, force: true })
})

let sequence = 0
/** A job record with sensible defaults; `overrides` wins. */
function job (overrides: Partial<JobRecord> = {}): JobRecord {
  sequence++
  const spec = { command: `echo ${sequence}`, shell: '/bin/sh', workdir: '/tmp', env: { A: 'b' }, timeoutSec: 300, idleTimeoutSec: 0, stdin: null, stdinEof: false }
  return { ...newJobRecord(`job-${sequence}`, spec, null), submittedAt: 1_700_000_000 + sequence, ...overrides }
}

/**
 * Inserts jobs with these statuses in order, as the manager does: inserted, then updated. Finished
 * ones get `finishedAt` = their submit time.
 */
function insertAll (statuses: JobStatus[]): JobRecord[] {
  return statuses.map((status) => {
    const record = job()
    store.insert(record)
    record.status = status
    if (status !== 'pending' && status !== 'running') record.finishedAt = record.submittedAt
    store.update(record.id, { status, finishedAt: record.finishedAt })
    return record
  })
}

const ids = (records: readonly JobRecord[]): string[] => records.map((r) => r.id)

describe('JobStore', () => {
  test('an inserted job reads back exactly as it was written', () => {
    const record = job({ idempotencyKey: 'key-1', spec: { ...job().spec, stdin: 'in€', env: { X: 'y z' } } })
    store.insert(record)
    assert.deepEqual(store.get(record.id), record)
  })

  test('an unknown id reads as undefined', () => {
    assert.equal(store.get('nope'), undefined)
  })

  test('list returns the newest jobs first, up to the limit', () => {
    const records = insertAll(['completed', 'running', 'pending', 'failed'])
    assert.deepEqual(ids(store.list(10)), ids(records).reverse())
    assert.deepEqual(ids(store.list(2)), [records[3]?.id, records[2]?.id])
  })

  test('list can be filtered by status', () => {
    const records = insertAll(['completed', 'running', 'completed', 'failed'])
    assert.deepEqual(ids(store.list(10, 'completed')), [records[2]?.id, records[0]?.id])
    assert.deepEqual(store.list(10, 'timeout'), [])
  })

  test('count counts every job', () => {
    assert.equal(store.count(), 0)
    insertAll(['pending', 'running', 'completed'])
    assert.equal(store.count(), 3)
  })

  test('update changes only the given fields', () => {
    const record = job()
    store.insert(record)
    store.update(record.id, { status: 'running', startedAt: 1_800_000_000.25, pid: 1234, pidStartTime: '98765' })
    store.update(record.id, { status: 'timeout', finishedAt: 1_800_000_001.5, exitCode: null, signal: 'SIGKILL', timedOut: true, error: 'timed out' })
    assert.deepEqual(store.get(record.id), {
      ...record,
      status: 'timeout',
      startedAt: 1_800_000_000.25,
      finishedAt: 1_800_000_001.5,
      pid: 1234,
      pidStartTime: '98765',
      signal: 'SIGKILL',
      timedOut: true,
      error: 'timed out',
    })
  })

  test('every read after an update or a deletion sees it (records are kept in memory between writes)', () => {
    const [record] = insertAll(['pending'])
    const id = record?.id ?? ''
    assert.equal(store.get(id)?.status, 'pending')
    store.update(id, { status: 'running', pid: 42 })
    assert.equal(store.get(id)?.pid, 42)
    store.update(id, { status: 'completed', finishedAt: 1, exitCode: 0 })
    assert.equal(store.get(id)?.status, 'completed')
    assert.throws(() => { (store.get(id) as JobRecord).status = 'failed' }, TypeError)
    assert.deepEqual(store.deleteExpired(0, 0), [id])
    assert.equal(store.get(id), undefined)
  })

  test('the record kept in memory after an insert and updates is exactly what a fresh read of the row gives', () => {
    const record = job({ idempotencyKey: 'kept' })
    store.insert({ ...record, spec: { ...record.spec, shell: undefined as unknown as string } })
    store.update(record.id, { status: 'running', startedAt: 2, pid: 42, pidStartTime: '99' })
    store.update(record.id, { status: 'failed', finishedAt: 3, exitCode: 1, signal: 'SIGTERM', timedOut: true, error: 'x', idempotencyKey: null })
    store.update(record.id, { acp: { stopReason: 'end_turn' } as never })
    const kept = store.get(record.id)
    const fresh = new JobStore(path)
    try {
      assert.deepEqual(kept, fresh.get(record.id))
      assert.equal(Object.hasOwn(kept?.spec ?? {}, 'shell'), false, 'a field JSON drops is dropped here too')
    } finally {
      fresh.close()
    }
  })

  test('timedOut can be set back to false', () => {
    const record = job({ timedOut: true })
    store.insert(record)
    store.update(record.id, { timedOut: false })
    assert.equal(store.get(record.id)?.timedOut, false)
  })

  test('updating an unknown id changes nothing', () => {
    insertAll(['pending'])
    store.update('nope', { status: 'failed' })
    assert.equal(store.count(), 1)
    assert.equal(store.get('nope'), undefined)
  })

  test('a job can be found by its idempotency key until the key is cleared', () => {
    const record = job({ idempotencyKey: 'abc' })
    store.insert(record)
    insertAll(['pending'])
    assert.equal(store.findByIdempotencyKey('abc')?.id, record.id)
    assert.equal(store.findByIdempotencyKey('other'), undefined)
    store.update(record.id, { idempotencyKey: null })
    assert.equal(store.findByIdempotencyKey('abc'), undefined)
  })

  test('two jobs cannot share an idempotency key', () => {
    store.insert(job({ idempotencyKey: 'same' }))
    assert.throws(() => store.insert(job({ idempotencyKey: 'same' })), /UNIQUE/)
  })

  test('withStatus returns the jobs with that status, oldest first', () => {
    const records = insertAll(['running', 'pending', 'running', 'running'])
    assert.deepEqual(ids(store.withStatus('running')), [records[0]?.id, records[2]?.id, records[3]?.id])
    assert.deepEqual(ids(store.withStatus('pending')), [records[1]?.id])
    assert.deepEqual(store.withStatus('cancelled'), [])
  })

  describe('deleteExpired', () => {
    test('finished jobs beyond the count to keep are deleted, oldest first', () => {
      const records = insertAll(['completed', 'failed', 'timeout', 'cancelled', 'completed'])
      const deleted = store.deleteExpired(2, 0)
      assert.deepEqual(deleted.sort(), ids(records.slice(0, 3)).sort())
      assert.deepEqual(ids(store.list(10)), [records[4]?.id, records[3]?.id])
    })

    test('finished jobs older than the cut-off are deleted even within the count to keep', () => {
      const records = insertAll(['completed', 'completed', 'completed'])
      const cutOff = (records[1]?.finishedAt ?? 0) + 0.5
      assert.deepEqual(store.deleteExpired(100, cutOff).sort(), ids(records.slice(0, 2)).sort())
      assert.deepEqual(ids(store.list(10)), [records[2]?.id])
    })

    test('pending and running jobs are never deleted, by count or by age', () => {
      const records = insertAll(['pending', 'running', 'completed', 'running', 'completed', 'pending'])
      store.update(records[1]?.id ?? '', { finishedAt: 1 }) // even with a stale finish time
      const deleted = store.deleteExpired(1, Number.MAX_SAFE_INTEGER)
      assert.deepEqual(deleted.sort(), [records[2]?.id, records[4]?.id].sort())
      assert.deepEqual(ids(store.list(10)).sort(), ids([records[0], records[1], records[3], records[5]] as JobRecord[]).sort())
    })

    test('running jobs do not use up the count of finished jobs to keep', () => {
      const records = insertAll(['completed', 'running', 'running', 'running'])
      assert.deepEqual(store.deleteExpired(1, 0), [])
      assert.ok(store.get(records[0]?.id ?? ''))
    })

    test('nothing is deleted when every finished job is kept and recent', () => {
      insertAll(['completed', 'failed'])
      assert.deepEqual(store.deleteExpired(10, 0), [])
      assert.equal(store.count(), 2)
    })
  })

  test('jobs survive closing and reopening the database', () => {
    const records = insertAll(['completed', 'running'])
    store.update(records[1]?.id ?? '', { pid: 42, pidStartTime: '777' })
    store.close()
    store = new JobStore(path)
    assert.equal(store.count(), 2)
    assert.deepEqual(store.get(records[0]?.id ?? ''), records[0])
    assert.equal(store.get(records[1]?.id ?? '')?.pid, 42)
    assert.deepEqual(ids(store.list(10)), ids(records).reverse())
  })

  test('closing twice is harmless', () => {
    store.close()
    store.close()
  })

  test('the database and its WAL files are readable by the owner only', () => {
    insertAll(['pending'])
    for (const file of [path, `${path}-wal`, `${path}-shm`]) {
      if (!existsSync(file)) continue
      assert.equal(statSync(file).mode & 0o777, 0o600, file)
    }
    assert.ok(existsSync(`${path}-wal`), 'the database runs in WAL mode')
  })
})

test('a database made before ACP jobs gains the acp column, and ACP outcomes round-trip', () => {
  store.close()
  rmSync(path)
  const old = new Database(path)
  old.exec(`CREATE TABLE jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, mode TEXT NOT NULL, spec TEXT NOT NULL,
    status TEXT NOT NULL, submitted_at REAL NOT NULL, started_at REAL, finished_at REAL, pid INTEGER, pid_start_time TEXT,
    exit_code INTEGER, signal TEXT, timed_out INTEGER NOT NULL DEFAULT 0, error TEXT, idempotency_key TEXT UNIQUE)`)
  old.prepare("INSERT INTO jobs (id, mode, spec, status, submitted_at) VALUES ('old', 'shell', '{}', 'completed', 1)").run()
  old.close()
  store = new JobStore(path)
  assert.equal(store.get('old')?.acp, null)
  const record = job()
  store.insert(record)
  const outcome = { sessionId: 's', stopReason: 'end_turn', toolCalls: [{ toolCallId: 't' }], error: null }
  store.update(record.id, { acp: outcome })
  assert.deepEqual(store.get(record.id)?.acp, outcome)
})
