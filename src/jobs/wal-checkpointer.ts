import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import type Database from 'better-sqlite3'
import { errorMessage } from '../lib/error-message.js'

// Writes between two checkpoints: about 1,000 WAL pages, SQLite's own default, at ~4 pages a write.
const WRITES_PER_CHECKPOINT = 256

// WAL frames (pages, 4 KiB) above which a checkpoint makes writers wait until the WAL restarts: 64 MiB.
const RESTART_FRAMES = 16_384

// Why eval and CommonJS: the same code runs from dist/ and under tsx, with no worker file to find.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
let db
try {
  // Why a resolved path: an eval'd worker resolves bare names from the server's cwd, not from here.
  const Database = require(workerData.module)
  db = new Database(workerData.path, { fileMustExist: true })
  db.pragma('busy_timeout = 5000')
} catch (err) {
  parentPort.postMessage({ error: String(err && err.message || err) })
}
parentPort.on('message', (message) => {
  if (message === 'close') {
    if (db) db.close()
    parentPort.close()
    return
  }
  if (!db) return
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)')
    // Why: under writes that never pause, a passive checkpoint never reaches the end of the WAL,
    // which then only grows; past the limit, RESTART makes writers wait until it has.
    if (result && result.log > workerData.restartFrames) db.pragma('wal_checkpoint(RESTART)')
    parentPort.postMessage({ done: true })
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message || err) })
  }
})
`

// Why resolved once here: the worker gets the same better-sqlite3 as the server, wherever it runs from.
const SQLITE_MODULE = createRequire(import.meta.url).resolve('better-sqlite3')

/** Reports a checkpointer that cannot work (the store then checkpoints on its own thread again). */
export type CheckpointFailure = (message: string) => void

/**
 * Moves SQLite's WAL checkpoints off the event loop. A checkpoint copies the WAL into the database
 * file and fsyncs it: 17–28 ms on the test VM, which SQLite's automatic checkpoint spends inside
 * whichever write crosses 1,000 pages — every few hundred writes, on the server's only thread.
 * Here the main connection never checkpoints (`wal_autocheckpoint = 0`); every
 * WRITES_PER_CHECKPOINT writes, a worker thread with its own connection runs a PASSIVE checkpoint,
 * which never blocks writers. The worker starts at the first checkpoint, so a server that has run no
 * jobs has none; once started it stays (~8 MiB of RSS; see docs/benchmarks.md for why).
 */
export class WalCheckpointer {
  readonly #db: Database.Database
  readonly #onFailure: CheckpointFailure
  #worker: Worker | null = null
  #writes = 0
  #running = false
  #failed = false

  constructor (db: Database.Database, onFailure: CheckpointFailure) {
    this.#db = db
    this.#onFailure = onFailure
    db.pragma('wal_autocheckpoint = 0')
  }

  /** Counts one write; asks for a checkpoint when enough have been made since the last one. */
  wrote (): void {
    if (this.#failed || ++this.#writes < WRITES_PER_CHECKPOINT || this.#running) return
    this.#writes = 0
    this.#running = true
    try {
      this.#ensureWorker().postMessage('checkpoint')
    } catch (err) {
      this.#fail(errorMessage(err))
    }
  }

  #ensureWorker (): Worker {
    if (this.#worker) return this.#worker
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module: SQLITE_MODULE, path: this.#db.name, restartFrames: RESTART_FRAMES } })
    worker.on('message', (message: { done?: boolean, error?: string }) => {
      this.#running = false
      if (message.error !== undefined) this.#fail(message.error)
    })
    worker.on('error', (err) => { this.#fail(err.message) })
    // Why fail: a worker gone by itself would leave a checkpoint "running" forever and the WAL unbounded.
    worker.on('exit', () => { if (this.#worker === worker) this.#fail('the checkpoint worker ended') })
    // Why after the listeners: a 'message' listener refs the worker's port again, and a ref'd worker
    // kept a process that never closed its store alive for ever.
    worker.unref()
    this.#worker = worker
    return worker
  }

  // Why give up for good: a worker that cannot checkpoint once will not later; SQLite's own does.
  #fail (message: string): void {
    if (this.#failed) return
    this.#failed = true
    this.#running = false
    this.#stopWorker()
    try { this.#db.pragma('wal_autocheckpoint = 1000') } catch { /* the database is closed */ }
    this.#onFailure(message)
  }

  #stopWorker (): void {
    const worker = this.#worker
    this.#worker = null
    worker?.terminate().catch(() => { /* it is going anyway */ })
  }

  /** Lets the worker close its connection and end (after a checkpoint it is running); resolves once it has. */
  close (): Promise<void> {
    const worker = this.#worker
    this.#worker = null
    this.#failed = true
    if (!worker) return Promise.resolve()
    const ended = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
    // Why ref: whoever awaits the end must not see Node exit first with the promise pending.
    worker.ref()
    worker.postMessage('close')
    return ended
  }

  /** True once the worker has failed (or the checkpointer is closed): SQLite checkpoints by itself. */
  get handedBack (): boolean {
    return this.#failed
  }

  /** Resolves when no checkpoint is running (tests wait for one before looking at the WAL). */
  async idle (): Promise<void> {
    while (this.#running) await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
