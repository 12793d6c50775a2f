import assert from 'node:assert/strict'
import { request } from 'node:http'
import { after, before, describe, test } from 'node:test'
import { RuntimeClient } from '../../src/client/index.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { processesMatching } from '../helpers/processes.js'
import { waitFor } from '../helpers/wait.js'

describe('POST /exec?wait: submit and wait in one request', () => {
  let server: TestServer
  before(async () => { server = await startServer() })
  after(async () => server.close())

  test('a job that ends within the wait is answered 200 with the whole job, output included', async () => {
    const answer = await server.api('POST', '/exec?wait=10', { command: 'echo out; echo err >&2; exit 3' })
    assert.equal(answer.status, 200)
    assert.equal(answer.body.status, 'failed')
    assert.equal(answer.body.exitCode, 3)
    assert.equal(answer.body.stdout, 'out\n')
    assert.equal(answer.body.stderr, 'err\n')
    assert.match(answer.body.jobId, /^[0-9a-f]{12}$/)
    assert.deepEqual(answer.body, (await server.api('GET', `/jobs/${answer.body.jobId}`)).body)
  })

  test('a job still running when the wait ends is answered 202 with its state, and goes on', async () => {
    const answer = await server.api('POST', '/exec?wait=0.3', { command: 'echo started; sleep 1; echo done' })
    assert.equal(answer.status, 202)
    assert.equal(answer.body.status, 'running')
    assert.equal(answer.body.processAlive, true)
    assert.equal(typeof answer.body.pid, 'number')
    const job = await server.finished(answer.body.jobId)
    assert.equal(job.status, 'completed')
    assert.equal(job.stdout, 'started\ndone\n')
  })

  test('wait=0 answers at once with the job as it is; a repeated Idempotency-Key waits for the same job', async () => {
    const first = await server.api('POST', '/exec?wait=0', { command: 'sleep 0.3; echo once' }, { 'idempotency-key': 'wait-key' })
    assert.equal(first.status, 202)
    assert.ok(['pending', 'running'].includes(first.body.status))
    const again = await server.api('POST', '/exec?wait=10', { command: 'sleep 0.3; echo once' }, { 'idempotency-key': 'wait-key' })
    assert.equal(again.status, 200)
    assert.equal(again.body.jobId, first.body.jobId)
    assert.equal(again.body.stdout, 'once\n')
  })

  test('a bad wait, or wait with an event stream, is refused before anything runs', async () => {
    for (const query of ['wait=-1', 'wait=soon', 'wait=5&stream=sse']) {
      const answer = await server.api('POST', `/exec?${query}`, { command: 'echo never > /dev/null' })
      assert.equal(answer.status, 400, query)
      assert.equal(answer.body.code, 'INVALID_REQUEST', query)
    }
    const sse = await server.api('POST', '/exec?wait=5', { command: 'true' }, { accept: 'text/event-stream' })
    assert.equal(sse.status, 400)
    const jobs = (await server.api('GET', '/jobs?limit=100')).body as Array<{ command: string }>
    assert.equal(jobs.filter((job) => job.command === 'echo never > /dev/null' || job.command === 'true').length, 0)
  })

  test('a client that drops during the wait leaves the job running', async () => {
    const marker = `sleep 1.${process.pid}`
    const url = new URL(`${server.url}/exec?wait=30`)
    const body = JSON.stringify({ command: `${marker}; echo finished` })
    const dropped = request(url, { method: 'POST', headers: { 'x-api-key': server.key, 'content-type': 'application/json' } })
    dropped.on('error', () => { /* the socket we destroy */ })
    dropped.end(body)
    await waitFor(() => processesMatching(marker).length > 0, 'the job to start')
    dropped.destroy()
    const [job] = (await server.api('GET', '/jobs?limit=5')).body as Array<{ jobId: string, command: string }>
    assert.ok(job !== undefined && job.command.startsWith(marker))
    assert.equal((await server.finished(job.jobId)).stdout, 'finished\n')
  })

  test("the client's run() submits and waits in one request, and returns a job that outlasts timeoutSec as it is", async () => {
    const client = new RuntimeClient({ url: server.url, apiKey: server.key })
    const quick = await client.run({ command: 'echo quick' })
    assert.equal(quick.status, 'completed')
    assert.equal(quick.stdout, 'quick\n')
    const slow = await client.run({ command: 'sleep 1.2; echo slow' }, { timeoutSec: 30 })
    assert.equal(slow.status, 'completed')
    assert.equal(slow.stdout, 'slow\n')
    const cut = await client.run({ command: 'sleep 5' }, { timeoutSec: 0.3 })
    assert.equal(cut.status, 'running')
    await client.kill(cut.jobId)
  })
})
