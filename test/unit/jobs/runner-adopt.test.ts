import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { jobFiles } from '../../../src/exec/job-files.js'
import type { JobKindHost, JobProgress } from '../../../src/jobs/kind.js'
import type { JobEnd } from '../../../src/jobs/outcome.js'
import { JobRunner } from '../../../src/jobs/runner.js'
import { newJobRecord, type JobRecord } from '../../../src/jobs/types.js'
import { createLogger } from '../../../src/logger.js'
import { waitFor } from '../../helpers/wait.js'

const stateDir = mkdtempSync(join(tmpdir(), 'agent-runtime-adopt-'))
after(() => rmSync(stateDir, { recursive: true, force: true }))

function runningJob (id: string): JobRecord {
  const spec = { command: 'true', shell: '/bin/sh', workdir: stateDir, env: {}, timeoutSec: 0, idleTimeoutSec: 0, stdin: null, stdinEof: true }
  return { ...newJobRecord(id, spec, null), status: 'running', startedAt: Date.now() / 1000 }
}

test('a running job with no recorded pid is re-adopted through its launch file and ends with its real status', async () => {
  const ends: JobEnd[] = []
  const progress: JobProgress[] = []
  const host: JobKindHost = {
    files: (id) => jobFiles(stateDir, id),
    killGraceMs: 1000,
    log: createLogger('silent'),
    ended: (_id, end) => ends.push(end),
    progress: (_id, fields) => progress.push(fields),
  }
  const runner = new JobRunner(host)
  const job = runningJob('launched1')
  const files = jobFiles(stateDir, job.id)
  mkdirSync(files.dir, { recursive: true })
  // The job's recorder as the launcher leaves it: its own group, the exit file written at its end.
  const recorder = spawn('/bin/sh', ['-c', `read _ ; echo 7 > '${files.exit}'`], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] })
  const pid = recorder.pid as number
  writeFileSync(join(files.dir, 'launch'), `${pid}\n`)
  try {
    assert.equal(runner.adopt(job), null, 'the job is followed, not ended')
    assert.deepEqual(progress.map((p) => p.pid), [pid], 'the pid is recorded for the next server')
    recorder.stdin?.end('go\n')
    await waitFor(() => ends.length === 1, 'the adopted job to end')
    assert.deepEqual(ends[0], { type: 'process', end: { type: 'status', status: 7 }, reason: null })
  } finally {
    await runner.stopAll()
  }
})

test('a running job with no recorded pid and no launch file is lost', () => {
  const host: JobKindHost = { files: (id) => jobFiles(stateDir, id), killGraceMs: 1000, log: createLogger('silent'), ended: () => {}, progress: () => {} }
  const runner = new JobRunner(host)
  const job = runningJob('lost1')
  mkdirSync(jobFiles(stateDir, job.id).dir, { recursive: true })
  assert.deepEqual(runner.adopt(job), { type: 'lost', mode: 'shell' })
  runner.detachAll()
})
