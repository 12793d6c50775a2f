import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, statSync, unlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, test } from 'node:test'
import Database from 'better-sqlite3'
import { WalCheckpointer } from '../../../src/jobs/wal-checkpointer.js'

let dir: string
let path: string
let db: Database.Database
let checkpointer: WalCheckpointer | undefined

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'agent-runtime-wal-'))
  path = join(dir, 'jobs.db')
  db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)')
})

afterEach(async () => {
  await checkpointer?.close()
  checkpointer = undefined
  if (db.open) db.close()
  rmSync(dir, { recursive: true, force: true })
})

const body = 'x'.repeat(2000)
const walBytes = (): number => statSync(`${path}-wal`).size
const autocheckpoint = (): number => db.pragma('wal_autocheckpoint', { simple: true }) as number

/** Inserts `rows` rows of 2 kB, telling the checkpointer about each write, and lets it finish its checkpoints. */
async function write (rows: number): Promise<void> {
  const insert = db.prepare('INSERT INTO t (body) VALUES (?)')
  for (let i = 0; i < rows; i++) {
    insert.run(body)
    checkpointer?.wrote()
    if (i % 64 === 63) await checkpointer?.idle()
  }
  await checkpointer?.idle()
}

test('the main connection stops checkpointing by itself and the WAL stays bounded by the worker\'s checkpoints', async () => {
  checkpointer = new WalCheckpointer(db, (message) => assert.fail(`checkpointer failed: ${message}`))
  assert.equal(autocheckpoint(), 0)
  await write(6000) // ~12 MB of rows
  assert.ok(walBytes() < 8 * 1024 * 1024, `WAL of ${walBytes()} bytes after 12 MB of writes`)
  assert.equal(checkpointer.handedBack, false)
})

test('without the worker\'s checkpoints the same writes grow the WAL past that bound (what the test above rules out)', async () => {
  db.pragma('wal_autocheckpoint = 0')
  await write(6000)
  assert.ok(walBytes() >= 8 * 1024 * 1024, `WAL of ${walBytes()} bytes`)
})

test('a worker that cannot open the database hands checkpoints back to SQLite and says why', async () => {
  const failures: string[] = []
  checkpointer = new WalCheckpointer(db, (message) => failures.push(message))
  // Why: the worker opens the database only when the first checkpoint is due; by then it is gone.
  unlinkSync(path)
  await write(300)
  await waitFor(() => failures.length > 0)
  assert.match(failures[0] ?? '', /\S/)
  assert.equal(failures.length, 1)
  assert.equal(checkpointer.handedBack, true)
  assert.equal(autocheckpoint(), 1000)
})

test('close ends the worker, and closing again or before any checkpoint is harmless', async () => {
  const unused = new WalCheckpointer(db, () => {})
  await unused.close()
  await unused.close()
  checkpointer = new WalCheckpointer(db, (message) => assert.fail(message))
  await write(300)
  await checkpointer.close()
  await checkpointer.close()
  checkpointer.wrote() // after close: no worker is started again
  db.close()
})

async function waitFor (condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

test('a running checkpoint worker does not keep a process alive that never closed its store', async () => {
  const { spawn } = await import('node:child_process')
  const fixture = new URL('../../fixtures/checkpointer-without-close.ts', import.meta.url).pathname
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, join(dir, 'child.db')], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString() })
  // Why a deadline and not a duration: the only question is whether it exits by itself at all.
  const code = await new Promise<number | null>((resolve) => {
    const deadline = setTimeout(() => { child.kill('SIGKILL'); resolve(null) }, 60_000)
    child.on('exit', (exitCode) => { clearTimeout(deadline); resolve(exitCode) })
  })
  assert.equal(out, 'wrote\n', err)
  assert.equal(err, '', 'the worker ran (it did not fail and hand checkpoints back)')
  assert.equal(code, 0, 'the process ended by itself with the worker still running')
})
