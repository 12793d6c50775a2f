import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { loadConfig } from '../../../src/config.js'
import type { JobKind, JobKindHost, StartedProcess } from '../../../src/jobs/kind.js'
import { JobManager } from '../../../src/jobs/manager.js'
import { ENDING_SIGNALS } from '../../../src/jobs/outcome.js'
import { JobStore, type JobUpdate } from '../../../src/jobs/store.js'
import type { JobRecord, JobSpec } from '../../../src/jobs/types.js'
import { createLogger } from '../../../src/logger.js'
import { waitFor } from '../../helpers/wait.js'

const spec: JobSpec = { command: 'true', shell: '/bin/sh', workdir: '/tmp', env: {}, timeoutSec: 300, idleTimeoutSec: 0, stdin: null, stdinEof: true }

// A kind whose starts wait until the test lets them go (or fail them), and that records the signals it gets.
class HeldKind implements JobKind {
  readonly host: JobKindHost
  readonly running = new Set<string>()
  readonly starts = new Map<string, { resolve: (p: StartedProcess) => void, reject: (e: Error) => void }>()
  readonly signals: Array<[string, NodeJS.Signals]> = []

  constructor (host: JobKindHost) { this.host = host }
  get size (): number { return this.running.size }
  has (id: string): boolean { return this.running.has(id) }
  async start (job: JobRecord): Promise<StartedProcess> {
    const started = await new Promise<StartedProcess>((resolve, reject) => this.starts.set(job.id, { resolve, reject }))
    this.running.add(job.id)
    return started
  }

  signal (id: string, signal: NodeJS.Signals): void {
    this.signals.push([id, signal])
    if (ENDING_SIGNALS.has(signal)) this.end(id, 'cancel')
  }

  /** Ends a running job the way a process that exits 0 (or is cancelled) would be reported. */
  end (id: string, reason: 'cancel' | null = null): void {
    this.running.delete(id)
    this.host.ended(id, { type: 'process', end: { type: 'status', status: reason ? 143 : 0 }, reason })
  }

  adopt (): null { return null }
  detachAll (): void {}
  async stopAll (): Promise<void> { for (const id of [...this.running]) this.end(id, 'cancel') }
}

// A store whose updates fail like SQLite on a full disk while `full` is set.
class FillableStore extends JobStore {
  full = false
  override insert (job: JobRecord): void {
    if (this.full) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' })
    super.insert(job)
  }

  override update (id: string, fields: JobUpdate): void {
    if (this.full) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' })
    super.update(id, fields)
  }
}

describe('JobManager with a kind whose starts are held', () => {
  let stateDir: string
  let store: FillableStore
  let kind: HeldKind
  let manager: JobManager
  const make = (options: Record<string, string>): void => {
    const config = loadConfig({ stateDir, logLevel: 'silent', ...options }, {})
    manager = new JobManager(config, store, createLogger('silent', false), (host) => {
      kind = new HeldKind(host)
      return { shell: kind, acp: kind, persistent_shell: kind }
    })
  }

  beforeEach(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'agent-runtime-manager-'))
    store = new FillableStore(join(stateDir, 'jobs.db'))
  })
  afterEach(async () => {
    for (const start of kind.starts.values()) start.resolve({ pid: null, startTime: null })
    await manager.close()
    store.close()
    rmSync(stateDir, { recursive: true, force: true })
  })

  test('--max-pending-jobs 0 with one slot: of two submits in one loop turn, the second is refused with QUEUE_FULL', () => {
    make({ maxConcurrentJobs: '1', maxPendingJobs: '0' })
    manager.submit(spec)
    assert.throws(() => manager.submit(spec), { code: 'QUEUE_FULL' })
    assert.equal(readdirSync(join(stateDir, 'jobs')).length, 1, 'the refused job left no folder')
  })

  test('--max-pending-jobs 2 with two slots: four submits in one turn are accepted, the fifth is refused', () => {
    make({ maxConcurrentJobs: '2', maxPendingJobs: '2' })
    for (let i = 0; i < 4; i++) manager.submit(spec)
    assert.throws(() => manager.submit(spec), { code: 'QUEUE_FULL' })
  })

  test('a signal that does not end the job (SIGUSR1) sent during its start is delivered once it runs, and the job is not cancelled', async () => {
    make({})
    const { job } = manager.submit(spec)
    await waitFor(() => kind.starts.has(job.id), 'the start to begin')
    assert.deepEqual(manager.kill(job.id, 'SIGUSR1').signalled, 'SIGUSR1')
    assert.deepEqual(manager.kill(job.id, 'SIGCONT').signalled, 'SIGCONT')
    kind.starts.get(job.id)?.resolve({ pid: 1234, startTime: '1' })
    await waitFor(() => kind.signals.length === 2, 'the signals to be delivered')
    assert.deepEqual(kind.signals, [[job.id, 'SIGUSR1'], [job.id, 'SIGCONT']])
    assert.equal(manager.get(job.id)?.status, 'running')
    assert.equal(manager.get(job.id)?.pid, 1234)
    kind.end(job.id)
    assert.equal(manager.get(job.id)?.status, 'completed')
  })

  test('SIGINT sent during a start is the signal the job gets once it runs, and it ends cancelled', async () => {
    make({})
    const { job } = manager.submit(spec)
    await waitFor(() => kind.starts.has(job.id), 'the start to begin')
    assert.equal(manager.kill(job.id, 'SIGINT').signalled, 'SIGINT')
    kind.starts.get(job.id)?.resolve({ pid: 1234, startTime: '1' })
    await waitFor(() => manager.get(job.id)?.status === 'cancelled', 'the job to be cancelled')
    assert.deepEqual(kind.signals, [[job.id, 'SIGINT']])
  })

  test('a kill during a start that fails: the job fails with the reason, its slot is free, and a later kill is a plain 409', async () => {
    make({ maxConcurrentJobs: '1' })
    const { job } = manager.submit(spec)
    const { job: next } = manager.submit(spec)
    await waitFor(() => kind.starts.has(job.id), 'the start to begin')
    manager.kill(job.id)
    kind.starts.get(job.id)?.reject(new Error('no such shell'))
    await waitFor(() => kind.starts.has(next.id), 'the next job to start in the freed slot')
    const failed = manager.get(job.id)
    assert.equal(failed?.status, 'failed')
    assert.equal(failed?.error, 'cannot start the job: no such shell')
    assert.deepEqual(kind.signals, [], 'nothing was signalled')
    assert.throws(() => manager.kill(job.id), { code: 'JOB_NOT_RUNNING' })
  })

  test('a submit whose record cannot be written (full disk) is refused with 507 DISK_FULL and leaves no jobs/<id>/', () => {
    make({})
    store.full = true
    assert.throws(() => manager.submit(spec), { code: 'DISK_FULL', statusCode: 507 })
    assert.deepEqual(readdirSync(join(stateDir, 'jobs')), [])
    assert.equal(manager.count(), 0)
  })

  test('a start that cannot be recorded (full disk) leaves the job pending and starts it once the disk has room', async () => {
    make({ maxConcurrentJobs: '1' })
    const first = manager.submit(spec).job
    await waitFor(() => kind.starts.has(first.id), 'the first job to take the only slot')
    kind.starts.get(first.id)?.resolve({ pid: 1234, startTime: '1' })
    await waitFor(() => kind.running.has(first.id), 'the first job to run')
    const { job } = manager.submit(spec)
    store.full = true
    kind.end(first.id) // its slot frees up while the disk is full
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(kind.starts.has(job.id), false, 'not started while its start cannot be recorded')
    assert.equal(manager.get(job.id)?.status, 'pending')
    assert.equal(manager.queuePosition(job.id), 1)
    store.full = false
    await waitFor(() => kind.starts.has(job.id), 'the start once the disk has room')
    assert.equal(store.get(job.id)?.status, 'running')
  })

  test('an end that cannot be saved (full disk) is shown at once and saved once the disk has room', async () => {
    make({})
    const { job } = manager.submit(spec)
    await waitFor(() => kind.starts.has(job.id), 'the start to begin')
    kind.starts.get(job.id)?.resolve({ pid: 1234, startTime: '1' })
    await waitFor(() => manager.isRunning(job.id), 'the job to run')
    store.full = true
    kind.end(job.id)
    const shown = manager.get(job.id)
    assert.equal(shown?.status, 'completed')
    assert.equal(shown?.exitCode, 0)
    assert.equal(shown?.error, 'its end is not saved yet (the state directory cannot be written); retrying')
    assert.equal(manager.isRunning(job.id), false)
    assert.equal(store.get(job.id)?.status, 'running', 'not saved yet')
    assert.throws(() => manager.kill(job.id), { code: 'JOB_NOT_RUNNING' })
    store.full = false
    await waitFor(() => store.get(job.id)?.status === 'completed', 'the end to be saved')
    assert.equal(manager.get(job.id)?.error, null)
  })
})
