import assert from 'node:assert/strict'
import { createServer, Socket as NetSocket, type Server, type Socket } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { JOB_KEYS, RuntimeClient, RuntimeError } from '../../src/client/index.js'
import { startServer, type TestServer } from '../helpers/server.js'

describe('RuntimeClient', () => {
  let server: TestServer
  let client: RuntimeClient
  before(async () => {
    server = await startServer()
    client = new RuntimeClient({ url: server.url, apiKey: server.key })
  })
  after(async () => server.close())

  test('submit, wait, get, list, stdout and stderr work against a real server', async () => {
    const { jobId, status } = await client.submit({ command: 'echo out; echo err >&2; exit 2', env: { X: '1' } })
    assert.equal(status, 'pending')
    const job = await client.wait(jobId, { timeoutSec: 30 })
    assert.equal(job.status, 'failed')
    assert.equal(job.exitCode, 2)
    assert.equal((await client.get(jobId, { tailLines: 1 })).stdout, 'out\n')
    assert.ok((await client.list({ limit: 5 })).some((j) => j.jobId === jobId))
    assert.equal(Buffer.from(await client.stdout(jobId)).toString(), 'out\n')
    assert.equal(Buffer.from(await client.stderr(jobId, { offset: 1 })).toString(), 'rr\n')
  })

  test('every key of a job the server sends is declared in the client types', async () => {
    const { jobId } = await client.submit({ command: 'true' })
    await client.wait(jobId)
    const keys = new Set<string>(JOB_KEYS)
    for (const view of [await client.get(jobId), await client.get(jobId, { stdoutOffset: 0 })]) {
      for (const key of Object.keys(view)) assert.ok(keys.has(key), `the client declares ${key}`)
    }
  })

  test('events yields the job live and ends with exit', async () => {
    const { jobId } = await client.submit({ command: 'echo a; sleep 0.1; echo b' })
    let text = ''
    let last = ''
    for await (const event of client.events(jobId)) {
      if (event.event === 'output') text += event.data.data
      last = event.event
    }
    assert.equal(text, 'a\nb\n')
    assert.equal(last, 'exit')
  })

  test('stdin, nudge, kill and health', async () => {
    const { jobId } = await client.submit({ command: 'read a; read b; echo "$a$b"; sleep 30' })
    assert.equal((await client.writeStdin(jobId, 'x\n')).written, 2)
    assert.deepEqual(await client.nudge(jobId), { nudged: true, processAlive: true })
    await new Promise((resolve) => setTimeout(resolve, 100))
    const killed = await client.kill(jobId)
    assert.equal(killed.signal, 'SIGTERM')
    const job = await client.wait(jobId)
    assert.equal(job.status, 'cancelled')
    assert.equal(job.stdout, 'x\n')
    assert.equal((await client.health()).authenticated, true)
  })

  test('errors are typed with status, code and error', async () => {
    await assert.rejects(client.get('000000000000'), (err: unknown) =>
      err instanceof RuntimeError && err.status === 404 && err.code === 'JOB_NOT_FOUND' && err.error === 'job not found')
    const anonymous = new RuntimeClient({ url: server.url, apiKey: 'wrong' })
    await assert.rejects(anonymous.list(), (err: unknown) => err instanceof RuntimeError && err.status === 401 && err.code === 'UNAUTHORIZED')
    const nowhere = new RuntimeClient({ url: 'http://127.0.0.1:1', submitRetries: 0 })
    await assert.rejects(nowhere.health(), (err: unknown) => err instanceof RuntimeError && err.status === 0 && err.code === 'UNREACHABLE')
  })

  test('a 4xx answer to submit is not retried', async () => {
    await assert.rejects(client.submit({ command: '' }), (err: unknown) => err instanceof RuntimeError && err.status === 400)
  })
})

describe('RuntimeClient.submit retries', () => {
  let server: TestServer
  let proxy: Server
  let proxyUrl = ''
  const idempotencyKeys: string[] = []
  before(async () => {
    server = await startServer()
    const target = new URL(server.url)
    let requests = 0
    // A proxy that forwards every request but cuts the first answer: the client sees a network error.
    proxy = createServer((clientSocket: Socket) => {
      const first = requests++ === 0
      const upstream = new NetSocket()
      upstream.connect(Number(target.port), target.hostname)
      clientSocket.on('data', (chunk) => {
        const key = /idempotency-key: ([^\r\n]+)/i.exec(chunk.toString())?.[1]
        if (key) idempotencyKeys.push(key)
        upstream.write(chunk)
      })
      upstream.on('data', (chunk) => { if (first) clientSocket.destroy(); else clientSocket.write(chunk) })
      clientSocket.on('close', () => upstream.destroy())
      upstream.on('close', () => clientSocket.destroy())
      clientSocket.on('error', () => {})
      upstream.on('error', () => {})
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const address = proxy.address()
    proxyUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  })
  after(async () => {
    proxy.close()
    await server.close()
  })

  test('a retried submit sends the same Idempotency-Key and creates one job', async () => {
    const client = new RuntimeClient({ url: proxyUrl, apiKey: server.key, retryDelayMs: 10 })
    const { jobId } = await client.submit({ command: 'echo exactly-once' })
    assert.equal(idempotencyKeys.length, 2, 'the request was sent twice')
    assert.equal(idempotencyKeys[0], idempotencyKeys[1])
    const jobs = (await server.api('GET', '/jobs')).body as any[]
    assert.deepEqual(jobs.filter((j) => j.command === 'echo exactly-once').map((j) => j.jobId), [jobId])
  })
})
