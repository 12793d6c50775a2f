import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { processesMatching } from '../helpers/processes.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

// A unique sleep length marks the processes of one test so that we can look for leftovers.
const marker = (): string => `1000.${Math.floor(Math.random() * 1e9)}`

describe('process control', () => {
  let server: TestServer
  before(async () => { server = await startServer({ killGrace: '1' }) })
  after(async () => server.close())

  test('timeout kills the whole tree, background grandchild included, and keeps partial output', async () => {
    const m = marker()
    const id = await server.submit({ command: `echo partial; sleep ${m} & sleep ${m}; echo never`, timeout: 1 })
    const job = await server.finished(id)
    assert.equal(job.status, 'timeout')
    assert.equal(job.timedOut, true)
    assert.equal(job.stdout, 'partial\n')
    assert.match(job.error, /timed out after 1 s/)
    assert.deepEqual(processesMatching(`sleep ${m}`), [])
  })

  test('a killed job\'s stderr holds only what the command wrote, nothing from the recording wrapper', async () => {
    const id = await server.submit({ command: `exec sleep ${marker()}`, timeout: 0.3 })
    const job = await server.finished(id)
    assert.equal(job.status, 'timeout')
    assert.equal(job.signal, 'SIGTERM')
    assert.equal(job.exitCode, 143)
    assert.equal(job.stderr, '')
  })

  test('a grandchild that ignores SIGTERM is killed with SIGKILL after the grace', async () => {
    const m = marker()
    const id = await server.submit({ command: `sh -c 'trap "" TERM; sleep ${m}' & wait`, timeout: 0.5 })
    const job = await server.finished(id)
    assert.equal(job.status, 'timeout')
    assert.deepEqual(processesMatching(`sleep ${m}`), [])
  })

  test('idle timeout ends a job that stops printing', async () => {
    const m = marker()
    const id = await server.submit({ command: `echo tick; sleep ${m}`, idleTimeout: 0.5 })
    const job = await server.finished(id)
    assert.equal(job.status, 'timeout')
    assert.equal(job.stdout, 'tick\n')
    assert.match(job.error, /no output for 0.5 s/)
    assert.deepEqual(processesMatching(`sleep ${m}`), [])
  })

  test('idle timeout does not fire while output keeps coming', async () => {
    const id = await server.submit({ command: 'for i in 1 2 3 4 5 6; do echo $i; sleep 0.2; done', idleTimeout: 1 })
    const job = await server.finished(id)
    assert.equal(job.status, 'completed')
    assert.equal(job.stdout, '1\n2\n3\n4\n5\n6\n')
  })

  test('kill ends the whole process group and the job is cancelled', async () => {
    const m = marker()
    const id = await server.submit({ command: `sleep ${m} & sleep ${m} & echo started; wait` })
    await waitFor(async () => (await server.api('GET', `/jobs/${id}`)).body.stdout === 'started\n', 'job start')
    const response = await server.api('POST', `/jobs/${id}/kill`)
    assert.equal(response.status, 200)
    assert.equal(response.body.signal, 'SIGTERM')
    const job = await server.finished(id)
    assert.equal(job.status, 'cancelled')
    assert.equal(job.stdout, 'started\n')
    assert.deepEqual(processesMatching(`sleep ${m}`), [])
    const again = await server.api('POST', `/jobs/${id}/kill`)
    assert.equal(again.status, 409)
    assert.equal(again.body.code, 'JOB_NOT_RUNNING')
  })

  test('a timeout and an idle timeout of one year (31536000 s, beyond what setTimeout holds) do not end the job early', async () => {
    const id = await server.submit({ command: 'echo ready; read x; echo "got $x"', timeout: 31536000, idleTimeout: 31536000 })
    await waitFor(async () => (await server.api('GET', `/jobs/${id}`)).body.stdout === 'ready\n', 'the job to print ready')
    // Why a second look: a timer over 2^31-1 ms fires after 1 ms, long before this request.
    const running = (await server.api('GET', `/jobs/${id}`)).body
    assert.equal(running.status, 'running')
    await server.api('POST', `/jobs/${id}/stdin`, { data: 'x\n', eof: true })
    const job = await server.finished(id)
    assert.equal(job.status, 'completed')
    assert.equal(job.timedOut, false)
    assert.equal(job.stdout, 'ready\ngot x\n')
  })

  test('a signal that does not end the job (SIGCONT) leaves its outcome alone', async () => {
    const id = await server.submit({ command: 'read x; exit 0' })
    const response = await server.api('POST', `/jobs/${id}/kill`, { signal: 'SIGCONT' })
    assert.equal(response.body.signal, 'SIGCONT')
    await server.api('POST', `/jobs/${id}/nudge`)
    const job = await server.finished(id)
    assert.equal(job.status, 'completed')
  })

  test('stdin that the job does not read is refused with 409 STDIN_BUSY instead of hanging', async () => {
    const id = await server.submit({ command: 'sleep 30' })
    const chunk = 'x'.repeat(512 * 1024)
    let busy
    for (let i = 0; i < 10 && !busy; i++) {
      const response = await server.api('POST', `/jobs/${id}/stdin`, { data: chunk })
      if (response.status === 409) busy = response
      else assert.equal(response.status, 200)
    }
    assert.equal(busy?.body.code, 'STDIN_BUSY')
    await server.api('POST', `/jobs/${id}/kill`)
    await server.finished(id)
  })

  test('kill with a signal delivers that signal to the group', async () => {
    const id = await server.submit({ command: 'trap "echo got-int; exit 5" INT; echo ready; while :; do sleep 0.05; done' })
    await waitFor(async () => (await server.api('GET', `/jobs/${id}`)).body.stdout === 'ready\n', 'job start')
    const response = await server.api('POST', `/jobs/${id}/kill`, { signal: 'SIGINT' })
    assert.equal(response.status, 200)
    const job = await server.finished(id)
    assert.equal(job.status, 'cancelled')
    assert.match(job.stdout, /got-int/)
    const bad = await server.api('POST', `/jobs/${id}/kill`, { signal: 'SIGNOPE' })
    assert.equal(bad.status, 400)
  })
})

describe('queue', () => {
  let server: TestServer
  before(async () => { server = await startServer({ maxConcurrentJobs: '1', maxPendingJobs: '2' }) })
  after(async () => server.close())

  test('jobs run one at a time in FIFO order, pending ones show their queue position, and the queue limit answers 429', async () => {
    const blocker = await server.submit({ command: 'read x' })
    const first = await server.submit({ command: 'echo first' })
    const second = await server.submit({ command: 'echo second' })
    const pending = (await server.api('GET', `/jobs/${second}`)).body
    assert.equal(pending.status, 'pending')
    assert.equal(pending.queuePosition, 2)
    assert.equal(pending.startedAt, null)
    const full = await server.api('POST', '/exec', { command: 'echo third' })
    assert.equal(full.status, 429)
    assert.equal(full.body.code, 'QUEUE_FULL')
    assert.equal(full.headers.get('retry-after'), '1')
    const health = (await server.api('GET', '/health')).body
    assert.deepEqual(health.queue, { running: 1, pending: 2, maxConcurrent: 1, maxPending: 2 })
    await server.api('POST', `/jobs/${blocker}/stdin`, { data: '\n' })
    const a = await server.finished(first)
    const b = await server.finished(second)
    assert.equal(a.stdout, 'first\n')
    assert.ok(a.finishedAt <= b.startedAt, 'the second job starts after the first ended')
  })

  test('killing a pending job cancels it without starting it', async () => {
    const blocker = await server.submit({ command: 'read x' })
    const queued = await server.submit({ command: 'echo never' })
    const response = await server.api('POST', `/jobs/${queued}/kill`)
    assert.equal(response.status, 200)
    assert.equal(response.body.status, 'cancelled')
    assert.equal(response.body.signal, null)
    const job = (await server.api('GET', `/jobs/${queued}`)).body
    assert.equal(job.status, 'cancelled')
    assert.equal(job.pid, null)
    await server.api('POST', `/jobs/${blocker}/kill`)
    await server.finished(blocker)
  })
})

describe('Idempotency-Key', () => {
  let server: TestServer
  before(async () => { server = await startServer() })
  after(async () => server.close())

  test('two POSTs with the same key start one process and return the same job with 200', async () => {
    const body = { command: 'echo once >> count; cat count | wc -l', workdir: server.stateDir }
    const first = await server.api('POST', '/exec', body, { 'idempotency-key': 'abc-1' })
    const second = await server.api('POST', '/exec', body, { 'idempotency-key': 'abc-1' })
    assert.equal(first.status, 202)
    assert.equal(second.status, 200)
    assert.equal(second.body.jobId, first.body.jobId)
    const job = await server.finished(first.body.jobId)
    assert.equal(job.stdout.trim(), '1')
    const list = (await server.api('GET', '/jobs')).body as any[]
    assert.equal(list.filter((j) => j.command === body.command).length, 1)
    const other = await server.api('POST', '/exec', body, { 'idempotency-key': 'abc-2' })
    assert.equal(other.status, 202)
    assert.notEqual(other.body.jobId, first.body.jobId)
    await server.finished(other.body.jobId)
  })

  test('an over-long Idempotency-Key is refused', async () => {
    const response = await server.api('POST', '/exec', { command: 'true' }, { 'idempotency-key': 'k'.repeat(300) })
    assert.equal(response.status, 400)
  })
})
