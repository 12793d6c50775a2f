import assert from 'node:assert/strict'
import { statSync } from 'node:fs'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { after, before, describe, test } from 'node:test'
import { pino } from 'pino'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { makeStateDir, startServer, type TestServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'
import { TerminalClient } from '../helpers/terminal.js'

// 11 routes × 2 failures stay under the failed-auth limit (30 per minute); the limit has its own test.
const ROUTES: Array<[string, string]> = [
  ['GET', '/jobs'], ['GET', '/jobs/abc'], ['GET', '/jobs/abc/stdout'], ['GET', '/jobs/abc/stderr'],
  ['POST', '/exec'], ['POST', '/jobs/abc/nudge'], ['POST', '/jobs/abc/stdin'], ['POST', '/jobs/abc/kill'],
  ['DELETE', '/jobs/abc'], ['GET', '/no-such-route'], ['POST', '/no-such-route'],
]

describe('API key authentication', () => {
  let server: TestServer
  before(async () => { server = await startServer() })
  after(async () => server.close())

  test('every route except /health answers 401 without a key and with a wrong key', async () => {
    for (const [method, path] of ROUTES) {
      for (const headers of [{ 'x-api-key': '' }, { 'x-api-key': 'wrong' }]) {
        const response = await server.api(method, path, undefined, headers)
        assert.equal(response.status, 401, `${method} ${path} ${JSON.stringify(headers)}`)
        assert.deepEqual(response.body, { error: 'invalid or missing API key', code: 'UNAUTHORIZED' })
      }
    }
  })

  test('X-API-Key (any case) and Authorization: Bearer both authenticate', async () => {
    assert.equal((await server.api('GET', '/jobs')).status, 200)
    assert.equal((await fetch(`${server.url}/jobs`, { headers: { 'X-Api-Key': server.key } })).status, 200)
    assert.equal((await fetch(`${server.url}/jobs`, { headers: { authorization: `Bearer ${server.key}` } })).status, 200)
    assert.equal((await fetch(`${server.url}/jobs`, { headers: { authorization: 'Bearer wrong' } })).status, 401)
    assert.equal((await fetch(`${server.url}/jobs`, { headers: { authorization: `Basic ${server.key}` } })).status, 401)
  })

  test('a key with non-ASCII characters is a clean 401, not a dropped connection', async () => {
    const response = await fetch(`${server.url}/jobs`, { headers: { 'x-api-key': Buffer.from('ключ').toString('latin1') } })
    assert.equal(response.status, 401)
  })

  test('/health without a key (or with a wrong one) answers exactly the minimal body', async () => {
    for (const key of ['', 'wrong']) {
      const response = await server.api('GET', '/health', undefined, { 'x-api-key': key })
      assert.equal(response.status, 200)
      assert.deepEqual(response.body, { status: 'ok', authenticated: false })
    }
  })

  test('/health with the key reports the devpilot fields and the queue', async () => {
    const { body } = await server.api('GET', '/health')
    for (const field of ['status', 'version', 'hostname', 'jobs', 'cwd', 'terminal_supported', 'terminal_sessions', 'acp_supported',
      'execution_modes', 'persistent_shell_supported', 'persistent_shell_shells', 'persistent_shell_default_shell',
      'persistent_shell_sessions', 'persistent_shell_max_sessions', 'persistent_shell_idle_timeout_seconds',
      'uptimeSeconds', 'pid', 'queue', 'draining', 'storage']) {
      assert.ok(field in body, `health has ${field}`)
    }
    assert.equal(body.authenticated, true)
    assert.deepEqual(body.execution_modes, ['shell', 'acp', 'persistent_shell'])
    assert.equal(body.persistent_shell_supported, true)
    assert.equal(body.persistent_shell_shells.bash, true)
    assert.equal(body.persistent_shell_default_shell, 'bash')
    assert.equal(body.persistent_shell_max_sessions, 32)
    assert.equal(body.storage.state, 'ok')
    assert.ok(Number.isInteger(body.storage.freeBytes) && body.storage.freeBytes > 1024 * 1024, JSON.stringify(body.storage))
    assert.equal(body.storage.unsavedJobs, 0)
  })

  test('a job cannot see the API key in its environment, under either variable name', async () => {
    const id = await server.submit({
      command: 'env',
      env: { agent_runtime_API_KEY: server.key, AGENT_RUNTIME_API_KEY: server.key },
    })
    const job = await server.finished(id)
    assert.equal(job.status, 'completed')
    assert.ok(!job.stdout.includes(server.key))
    assert.doesNotMatch(job.stdout, /API_KEY/)
  })
})

describe('auth failure rate limit', () => {
  let server: TestServer
  before(async () => { server = await startServer() })
  after(async () => server.close())

  test('repeated failures from one address get 429 with Retry-After while the right key still works', async () => {
    let limited: { status: number, headers: Headers, body: any } | undefined
    for (let i = 0; i < 40 && !limited; i++) {
      const response = await server.api('GET', '/jobs', undefined, { 'x-api-key': 'wrong' })
      if (response.status === 429) limited = response
      else assert.equal(response.status, 401)
    }
    assert.ok(limited, 'a failure past the limit is answered 429')
    assert.equal(limited.body.code, 'TOO_MANY_AUTH_FAILURES')
    assert.ok(Number(limited.headers.get('retry-after')) > 0)
    assert.equal((await server.api('GET', '/jobs')).status, 200)
    assert.equal((await server.api('GET', '/health', undefined, { 'x-api-key': 'wrong' })).status, 200)
  })
})

describe('socket upgrades with a wrong key', () => {
  let server: TestServer
  before(async () => { server = await startServer() })
  after(async () => server.close())

  test('a wrong key sent with the upgrade is refused 401 at once; without a key the socket may authenticate with its first message', async () => {
    const url = `${server.url.replace(/^http/, 'ws')}/terminal?shell=/bin/sh`
    for (const headers of [{ 'x-api-key': 'wrong' }, { authorization: 'Bearer wrong' }]) {
      const client = await TerminalClient.open(url, headers)
      assert.equal(client.refused?.status, 401, JSON.stringify(headers))
      assert.equal(client.refused?.body.code, 'UNAUTHORIZED')
    }
    const keyless = await TerminalClient.open(url)
    assert.equal(keyless.refused, undefined, 'upgraded, waiting for the first message')
    keyless.send({ type: 'auth', key: server.key })
    await keyless.sessionId()
    keyless.type('exit\r')
    await keyless.closed
  })
})

describe('failed socket authentication', () => {
  let server: TestServer
  before(async () => { server = await startServer() })
  after(async () => server.close())

  test('wrong first-message keys count like wrong headers: then the upgrade is refused 429, and HTTP too', async () => {
    const url = `${server.url.replace(/^http/, 'ws')}/terminal?shell=/bin/sh`
    let refused: TerminalClient['refused']
    let failures = 0
    for (let i = 0; i < 40 && !refused; i++) {
      const client = await TerminalClient.open(url)
      refused = client.refused
      if (refused) break
      client.send({ type: 'auth', key: 'wrong' })
      assert.equal((await client.closed).code, 3401)
      failures++
    }
    assert.equal(failures, 30, 'thirty failures are allowed per minute')
    assert.equal(refused?.status, 429)
    assert.equal(refused?.body.code, 'TOO_MANY_AUTH_FAILURES')
    assert.ok(Number(refused?.headers['retry-after']) > 0)
    assert.equal((await server.api('GET', '/jobs', undefined, { 'x-api-key': 'wrong' })).status, 429)
    // The right key still works, by header and for the job stream as well.
    assert.equal((await server.api('GET', '/jobs')).status, 200)
    const keyed = await TerminalClient.open(url, { 'x-api-key': server.key })
    await keyed.sessionId()
    keyed.type('exit\r')
    await keyed.closed
    assert.deepEqual((await server.api('GET', '/terminals')).body.terminals, [], 'no shell was started for a failed socket')
  })
})

describe('key file', () => {
  test('a generated key is saved 0600 in a 0700 state directory and used by the server', async () => {
    const stateDir = makeStateDir()
    const server = await startServer({ stateDir }, { AGENT_RUNTIME_API_KEY: '' })
    try {
      assert.equal(statSync(stateDir).mode & 0o777, 0o700)
      const keyFile = join(stateDir, 'api-key')
      assert.equal(statSync(keyFile).mode & 0o777, 0o600)
      assert.equal(statSync(join(stateDir, 'jobs.db')).mode & 0o777, 0o600)
    } finally {
      await server.close()
    }
  })
})

describe('browser origins', () => {
  let server: TestServer
  before(async () => { server = await startServer({ corsOrigin: ['https://dash.example.com'] }) })
  after(async () => server.close())

  test('a request from a foreign origin is refused with 403', async () => {
    const response = await server.api('GET', '/jobs', undefined, { origin: 'https://evil.example.com' })
    assert.equal(response.status, 403)
    assert.equal(response.body.code, 'ORIGIN_NOT_ALLOWED')
  })

  test('an allowed origin gets CORS headers and its preflight succeeds', async () => {
    const response = await server.api('GET', '/jobs', undefined, { origin: 'https://dash.example.com' })
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('access-control-allow-origin'), 'https://dash.example.com')
    const preflight = await fetch(`${server.url}/exec`, {
      method: 'OPTIONS',
      headers: { origin: 'https://dash.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-api-key,content-type' },
    })
    assert.ok(preflight.status === 204 || preflight.status === 200)
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://dash.example.com')
    const upload = await fetch(`${server.url}/files?path=x`, {
      method: 'OPTIONS',
      headers: { origin: 'https://dash.example.com', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-api-key,if-match' },
    })
    assert.ok(upload.status === 204 || upload.status === 200)
    assert.ok(upload.headers.get('access-control-allow-methods')?.split(',').map((m) => m.trim()).includes('PUT'))
  })

  test('the same origin as the server is allowed', async () => {
    const response = await server.api('GET', '/jobs', undefined, { origin: server.url })
    assert.equal(response.status, 200)
  })
})

describe('failed authentications in the log', () => {
  test('each failure, HTTP or WebSocket, is logged at info with address and route, never the key presented', async () => {
    const lines: Array<Record<string, unknown>> = []
    const sink = new Writable({
      write (chunk: Buffer, _encoding, callback) {
        for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line))
        callback()
      },
    })
    const stateDir = makeStateDir()
    const config = loadConfig({ port: '0', stateDir, terminalPort: '0' }, {})
    const app = await buildApp(config, pino({ level: 'info' }, sink), { AGENT_RUNTIME_API_KEY: 'the-right-key' })
    try {
      await app.listen({ host: '127.0.0.1', port: 0 })
      const address = app.server.address()
      const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
      assert.equal((await fetch(`${url}/jobs/abc?tailLines=1`, { headers: { 'x-api-key': 'presented-secret-1' } })).status, 401)
      assert.equal((await fetch(`${url}/no-such-route?ticket=t-secret`, { method: 'POST' })).status, 401)
      const socket = await TerminalClient.open(`${url.replace(/^http/, 'ws')}/terminal?shell=/bin/sh`)
      socket.send({ type: 'auth', key: 'presented-secret-2' })
      assert.equal((await socket.closed).code, 3401)
      const failures = await waitFor(() => {
        const found = lines.filter((line) => line.msg === 'authentication failed')
        return found.length >= 3 ? found : undefined
      }, 'three failures in the log')
      assert.deepEqual(failures.map((line) => [line.level, line.address, line.route]), [
        [30, '127.0.0.1', 'GET /jobs/:id'],
        [30, '127.0.0.1', 'POST /no-such-route'],
        [30, '127.0.0.1', 'GET /terminal'],
      ])
      const text = JSON.stringify(lines)
      for (const secret of ['presented-secret', 't-secret', 'the-right-key']) assert.ok(!text.includes(secret), `${secret} is not logged`)
    } finally {
      await app.close()
      rmSync(stateDir, { recursive: true, force: true })
    }
  })

  test('a flood of failures writes at most 20 log lines a minute', async () => {
    const lines: Array<Record<string, unknown>> = []
    const sink = new Writable({
      write (chunk: Buffer, _encoding, callback) {
        for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line))
        callback()
      },
    })
    const stateDir = makeStateDir()
    const app = await buildApp(loadConfig({ port: '0', stateDir, terminalPort: '0' }, {}), pino({ level: 'info' }, sink), { AGENT_RUNTIME_API_KEY: 'k' })
    try {
      for (let i = 0; i < 40; i++) {
        assert.ok([401, 429].includes((await app.inject({ method: 'GET', url: '/jobs', headers: { 'x-api-key': 'wrong' } })).statusCode))
      }
      assert.equal(lines.filter((line) => line.msg === 'authentication failed').length, 20)
    } finally {
      await app.close()
      rmSync(stateDir, { recursive: true, force: true })
    }
  })
})
