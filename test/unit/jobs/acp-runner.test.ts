import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, test } from 'node:test'
import type { AcpResult } from '../../../src/acp/types.js'
import { jobFiles } from '../../../src/exec/job-files.js'
import { openFds } from '../../../src/jobs/acp-files.js'
import { AcpJobRunner, type AcpSessionLoader } from '../../../src/jobs/acp-runner.js'
import type { JobKindHost } from '../../../src/jobs/kind.js'
import { JobManager } from '../../../src/jobs/manager.js'
import { JobRunner } from '../../../src/jobs/runner.js'
import { JobStore } from '../../../src/jobs/store.js'
import { loadConfig } from '../../../src/config.js'
import type { JobEnd } from '../../../src/jobs/outcome.js'
import { newJobRecord, type JobRecord } from '../../../src/jobs/types.js'
import { createLogger } from '../../../src/logger.js'
import { waitFor } from '../../helpers/wait.js'

const onLinux = process.platform === 'linux'
const openFdCount = (): number => readdirSync('/proc/self/fd').length

describe('AcpJobRunner start failures', { skip: onLinux ? false : 'counts descriptors in /proc/self/fd' }, () => {
  let stateDir: string
  let ends: Array<[string, JobEnd]>
  let host: JobKindHost
  let sequence = 0

  const acpJob = (): JobRecord => {
    const id = `acp-${++sequence}`
    mkdirSync(jobFiles(stateDir, id).dir, { recursive: true })
    return {
      ...newJobRecord(id, {
        command: '[acp] agent',
        shell: '/bin/sh',
        workdir: stateDir,
        env: {},
        timeoutSec: 0,
        idleTimeoutSec: 0,
        stdin: null,
        stdinEof: true,
        acp: { agent: 'agent', prompt: 'hi', sessionId: null, model: null, effort: null, mode: null, permissionPolicy: 'workdir', mcpServers: [] },
      }, null),
      status: 'running',
      startedAt: Date.now() / 1000,
    }
  }

  beforeEach(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'agent-runtime-acp-runner-'))
    ends = []
    host = { files: (id) => jobFiles(stateDir, id), killGraceMs: 100, log: createLogger('silent', false), ended: (id, end) => ends.push([id, end]), progress: () => {} }
  })
  afterEach(() => rmSync(stateDir, { recursive: true, force: true }))

  test('an ACP SDK that fails to load fails the start and leaves no slot, no open file and no running job', async () => {
    const before = openFdCount()
    const runner = new AcpJobRunner(host, async () => { throw new Error('cannot find module @agentclientprotocol/sdk') })
    await assert.rejects(runner.start(acpJob()), /cannot find module/)
    assert.equal(runner.size, 0)
    assert.equal(openFdCount(), before)
    assert.deepEqual(ends, [], 'a failed start is the manager\'s to record, not an end')
  })

  test('a runAcpSession that rejects before its agent spawned fails the start the same way', async () => {
    const before = openFdCount()
    const load: AcpSessionLoader = async () => async () => { throw new Error('bad options') }
    const runner = new AcpJobRunner(host, load)
    await assert.rejects(runner.start(acpJob()), /bad options/)
    assert.equal(runner.size, 0)
    assert.equal(openFdCount(), before)
  })

  test('a runAcpSession that rejects after its agent spawned ends the job failed with the error and closes its files', async () => {
    const before = openFdCount()
    const load: AcpSessionLoader = async () => async (options) => {
      options.onSpawn?.(process.pid)
      options.onStderr?.(Buffer.from('agent said something\n'))
      await new Promise((resolve) => setImmediate(resolve))
      throw new Error('the connection broke')
    }
    const runner = new AcpJobRunner(host, load)
    const job = acpJob()
    const started = await runner.start(job)
    assert.equal(started.pid, process.pid)
    await waitFor(() => ends.length === 1, 'the end to be reported')
    const [id, end] = ends[0] as [string, JobEnd]
    assert.equal(id, job.id)
    assert.equal(end.type, 'acp')
    assert.equal((end as { result: AcpResult }).result.error, 'the connection broke')
    assert.equal(runner.size, 0)
    assert.equal(openFdCount(), before)
    assert.equal(readFileSync(jobFiles(stateDir, job.id).stderr, 'utf8'), 'agent said something\n')
  })

  test('when only some of the three files open, those that did are closed again', () => {
    const id = `partial-${++sequence}`
    const files = jobFiles(stateDir, id)
    mkdirSync(files.events, { recursive: true }) // a folder where the event log should be: opening it fails
    const before = openFdCount()
    assert.throws(() => openFds(files), { code: 'EISDIR' })
    assert.equal(openFdCount(), before)
  })

  test('through the manager: a failed ACP start ends the job failed and frees its slot for the next job', async () => {
    const before = openFdCount()
    let calls = 0
    const load: AcpSessionLoader = async () => {
      if (++calls === 1) throw new Error('cannot find module @agentclientprotocol/sdk')
      return async () => ({ sessionId: 's', outputText: '', toolCalls: [], events: [], stopReason: 'end_turn', stderr: '', error: null, timeout: null, aborted: false })
    }
    const store = new JobStore(join(stateDir, 'jobs.db'))
    const config = loadConfig({ stateDir, logLevel: 'silent', maxConcurrentJobs: '1' }, {})
    const manager = new JobManager(config, store, host.log, (h) => ({ shell: new JobRunner(h), acp: new AcpJobRunner(h, load), persistent_shell: new JobRunner(h) }))
    try {
      const { spec } = acpJob()
      const first = manager.submit(spec).job
      const second = manager.submit(spec).job
      await waitFor(() => manager.get(second.id)?.status === 'completed', 'the second job to run in the freed slot')
      const failed = manager.get(first.id)
      assert.equal(failed?.status, 'failed')
      assert.equal(failed?.error, 'cannot start the job: cannot find module @agentclientprotocol/sdk')
      assert.equal(manager.isRunning(first.id), false)
      assert.equal(manager.stats().running, 0)
    } finally {
      await manager.close()
      store.close()
    }
    // Why a wait: the shell kind's launcher pipes close asynchronously after close().
    await waitFor(() => openFdCount() === before, 'every descriptor of the jobs and the launcher to be closed')
  })
})
