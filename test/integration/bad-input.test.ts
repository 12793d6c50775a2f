import assert from 'node:assert/strict'
import { request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { Errors } from '../../src/errors.js'
import { rawRequest } from '../helpers/raw-http.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

describe('bad input gets a clear error and loses nothing', () => {
  let server: TestServer
  before(async () => { server = await startServer() })
  after(async () => server.close())

  test('malformed JSON answers 400 INVALID_JSON', async () => {
    for (const body of ['{bad', '{"command": "echo"', 'nul']) {
      const response = await server.api('POST', '/exec', body)
      assert.equal(response.status, 400, body)
      assert.equal(response.body.code, 'INVALID_JSON')
      assert.equal(typeof response.body.error, 'string')
    }
  })

  test('a JSON body that is not an object answers 400', async () => {
    for (const body of ['[1]', '"text"', '42']) {
      const response = await server.api('POST', '/exec', body)
      assert.equal(response.status, 400, body)
      assert.equal(response.body.error, 'request body must be a JSON object')
    }
  })

  test('a body without Content-Type is parsed as JSON, as devpilot did', async () => {
    const response = await fetch(`${server.url}/exec`, {
      method: 'POST',
      headers: { 'x-api-key': server.key, 'content-type': 'application/x-www-form-urlencoded' },
      body: '{"command":"echo form"}',
    })
    assert.equal(response.status, 202)
    const job = await server.finished(((await response.json()) as { jobId: string }).jobId)
    assert.equal(job.stdout, 'form\n')
  })

  test('an empty POST /exec body is {} and answers "command is required"', async () => {
    const response = await server.api('POST', '/exec')
    assert.equal(response.status, 400)
    assert.equal(response.body.error, 'command is required')
  })

  test('wrong field types answer 400 with devpilot messages where devpilot had them', async () => {
    const cases: Array<[unknown, string]> = [
      [{ command: 'x', env: 'a' }, 'env must be an object of string key/value pairs'],
      [{ command: 'x', env: { BAD: 123 } }, 'env must be an object of string key/value pairs'],
      [{ mode: 'nope', command: 'x' }, 'unsupported mode: nope'],
      [{ mode: null, command: 'x' }, 'unsupported mode: None'],
      [{ command: '' }, 'command is required'],
      [{ command: ['ls'] }, 'command must be a string'],
      [{ command: 'x', timeout: 'soon' }, 'timeout must be a number of seconds between 0 and 31536000'],
      [{ command: 'x', timeout: -1 }, 'timeout must be a number of seconds between 0 and 31536000'],
      [{ command: 'x', stdinEof: 'yes' }, 'stdinEof must be a boolean'],
      [{ command: 'x', workdir: 5 }, 'workdir must be a string'],
    ]
    for (const [body, message] of cases) {
      const response = await server.api('POST', '/exec', body)
      assert.equal(response.status, 400, JSON.stringify(body))
      assert.equal(response.body.error, message, JSON.stringify(body))
    }
  })

  test('persistent_shell mode checks its own fields in devpilot order: a missing sessionKey answers 400', async () => {
    const response = await server.api('POST', '/exec', { mode: 'persistent_shell', command: 'x' })
    assert.equal(response.status, 400)
    assert.equal(response.body.code, 'INVALID_REQUEST')
    assert.equal(response.body.error, 'sessionKey is required')
  })

  test('an oversize body answers 413 and the server keeps working', async () => {
    const response = await server.api('POST', '/exec', { command: 'x'.repeat(5 * 1024 * 1024) })
    assert.equal(response.status, 413)
    assert.equal(response.body.code, 'BODY_TOO_LARGE')
    assert.equal((await server.api('GET', '/health')).status, 200)
  })

  test('bad query values answer 400', async () => {
    const id = await server.submit({ command: 'true' })
    assert.equal((await server.api('GET', `/jobs/${id}?wait=3600`)).status, 200, 'wait above 60 is capped at 60, not refused')
    for (const query of ['wait=abc', 'wait=-1', 'tailLines=-1', 'stdoutOffset=x']) {
      const response = await server.api('GET', `/jobs/${id}?${query}`)
      assert.equal(response.status, 400, query)
      assert.equal(response.body.code, 'INVALID_REQUEST')
    }
    for (const query of ['limit=0', 'limit=1001', 'status=done']) {
      assert.equal((await server.api('GET', `/jobs?${query}`)).status, 400, query)
    }
  })

  test('query strings are converted to numbers, JSON bodies are not', async () => {
    const id = await server.submit({ command: 'sleep 30' })
    assert.equal((await server.api('GET', `/jobs/${id}?wait=0.1&tailLines=2`)).status, 200)
    assert.equal((await server.api('GET', `/jobs/${id}?tailLines=1.5`)).body.error, 'querystring/tailLines must be integer')
    const cases: Array<[string, unknown, string]> = [
      [`/jobs/${id}/stdin`, { data: 5 }, 'body/data must be string'],
      [`/jobs/${id}/stdin`, { data: 'x', eof: 'true' }, 'body/eof must be boolean'],
      [`/jobs/${id}/stdin`, {}, "body must have required property 'data'"],
      [`/jobs/${id}/kill`, { signal: 9 }, 'body must be null, body/signal must be string, body must match a schema in anyOf'],
      ['/update', { drain: '5' }, 'body must be null, body/drain must be number, body must match a schema in anyOf'],
    ]
    for (const [path, body, error] of cases) {
      const response = await server.api('POST', path, body)
      assert.equal(response.status, 400, JSON.stringify(body))
      assert.deepEqual(response.body, { error, code: 'INVALID_REQUEST' })
    }
    assert.equal((await server.api('GET', `/jobs/${id}`)).body.status, 'running', 'nothing was written to the job')
    assert.equal((await server.api('POST', `/jobs/${id}/kill`)).status, 200)
  })

  test('Infinity, -Infinity and 1e309 in any numeric query value answer 400, never 500 or accepted', async () => {
    const id = await server.submit({ command: 'true' })
    await server.finished(id)
    const queries = [
      ...['Infinity', '-Infinity', '1e309', '-1e309'].map((v) => `/jobs?limit=${v}`),
      ...['Infinity', '-Infinity', '1e309'].flatMap((v) => [
        `/jobs/${id}?wait=${v}`, `/jobs/${id}?tailLines=${v}`, `/jobs/${id}?stdoutOffset=${v}`, `/jobs/${id}?stderrOffset=${v}`,
        `/jobs/${id}/stdout?offset=${v}`, `/jobs/${id}/stderr?offset=${v}`,
      ]),
    ]
    for (const path of queries) {
      const response = await server.api('GET', path)
      assert.equal(response.status, 400, path)
      assert.equal(response.body.code, 'INVALID_REQUEST', path)
    }
    assert.equal((await server.api('GET', `/jobs/${id}?tailLines=2&wait=0`)).status, 200, 'finite values still work')
  })

  test('a path id over 100 characters is refused like one over 64: 401 without the key, then 400', async () => {
    for (const length of [65, 101, 5000]) {
      const path = `/jobs/${'x'.repeat(length)}`
      assert.equal((await server.api('GET', path, undefined, { 'x-api-key': 'wrong' })).status, 401, `${length}`)
      const response = await server.api('GET', path)
      assert.equal(response.status, 400, `${length}`)
      assert.equal(response.body.code, 'INVALID_REQUEST')
    }
  })

  test('a body with an unparsable Content-Type is parsed as JSON like any other', async () => {
    for (const type of [';;;;', 'json', 'a, b']) {
      const response = await server.api('POST', '/exec', { command: 'true' }, { 'content-type': type })
      assert.equal(response.status, 202, type)
    }
  })

  test('JSON nested deeper than 64 levels answers 400 JSON_TOO_DEEP while /health keeps answering', async () => {
    const deep = '['.repeat(4 * 1024 * 1024 - 16)
    const refusals = Array.from({ length: 4 }, async () => server.api('POST', '/exec', deep))
    const health = await server.api('GET', '/health')
    assert.equal(health.status, 200)
    for (const response of await Promise.all(refusals)) {
      assert.equal(response.status, 400)
      assert.equal(response.body.code, 'JSON_TOO_DEEP')
    }
    const ok = await server.api('POST', '/exec', '{"command":"true","env":{}}')
    assert.equal(ok.status, 202, 'shallow bodies are parsed')
    assert.equal((await server.api('GET', '/health')).status, 200)
  })

  test('an oversize body sent by fetch gets its 413, never a connection reset', async () => {
    const body = JSON.stringify({ command: 'x'.repeat(5 * 1024 * 1024) })
    for (let i = 0; i < 15; i++) {
      const response = await fetch(`${server.url}/exec`, { method: 'POST', headers: { 'x-api-key': server.key, 'content-type': 'application/json' }, body })
      assert.equal(response.status, 413, `attempt ${i}`)
      assert.equal(((await response.json()) as { code: string }).code, 'BODY_TOO_LARGE')
    }
    const refused = await fetch(`${server.url}/exec`, { method: 'POST', headers: { 'x-api-key': 'wrong' }, body })
    assert.equal(refused.status, 401, 'a refused request with a large body is answered too')
    await refused.body?.cancel()
  })

  test('a client without a key that trickles a declared body is answered 401 and cut off', async () => {
    const url = new URL(server.url)
    const socket = connect(Number(url.port), url.hostname)
    let received = ''
    let closed = false
    socket.on('data', (chunk) => { received += chunk.toString() })
    socket.on('error', () => {})
    socket.on('close', () => { closed = true })
    socket.write('POST /exec HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{')
    const trickle = setInterval(() => { if (!closed) socket.write(' ') }, 100)
    try {
      await waitFor(() => closed, 'the server to close the trickling connection', 30_000)
    } finally {
      clearInterval(trickle)
      socket.destroy()
    }
    assert.match(received, /^HTTP\/1\.1 401 /)
    assert.match(received, /"code":"UNAUTHORIZED"/)
  })

  test('a client that trickles its headers for ever is answered 408 REQUEST_TIMEOUT and cut off (headers timeout 30 s)', async () => {
    const url = new URL(server.url)
    const socket = connect(Number(url.port), url.hostname)
    let received = ''
    let closed = false
    socket.on('data', (chunk) => { received += chunk.toString() })
    socket.on('error', () => {})
    socket.on('close', () => { closed = true })
    socket.write('GET /health HTTP/1.1\r\nHost: x\r\n')
    const trickle = setInterval(() => { if (!closed) socket.write('X-Slow: 1\r\n') }, 1000)
    try {
      await waitFor(() => closed, 'the server to close the connection', 60_000, 200)
    } finally {
      clearInterval(trickle)
      socket.destroy()
    }
    assert.match(received, /^HTTP\/1\.1 408 /)
    assert.match(received, /"code":"REQUEST_TIMEOUT"/)
    assert.equal((await server.api('GET', '/health')).status, 200)
  })

  test('every framework-level refusal is JSON with a catalogue code', async () => {
    const k = server.key
    const ws = 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n'
    const cases: Array<[string, string, number, string]> = [
      ['bad %-escape', `GET /jobs/%zz HTTP/1.1\r\nHost: a\r\nX-API-Key: ${k}\r\n\r\n`, 400, 'MALFORMED_REQUEST'],
      ['head over 16 KiB', `GET /health HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`, 431, 'HEADERS_TOO_LARGE'],
      ['garbage request line', 'GARBAGE\r\n\r\n', 400, 'MALFORMED_REQUEST'],
      ['two Content-Lengths', 'POST /exec HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}', 400, 'MALFORMED_REQUEST'],
      ['missing Host', 'GET /health HTTP/1.1\r\n\r\n', 400, 'MALFORMED_REQUEST'],
      ['Expect: teapot', 'GET /health HTTP/1.1\r\nHost: a\r\nExpect: teapot\r\n\r\n', 417, 'EXPECTATION_FAILED'],
      ['OPTIONS without preflight headers', 'OPTIONS /jobs HTTP/1.1\r\nHost: a\r\n\r\n', 400, 'MALFORMED_REQUEST'],
      ['GET /terminal without Upgrade', `GET /terminal HTTP/1.1\r\nHost: a\r\nX-API-Key: ${k}\r\n\r\n`, 426, 'WEBSOCKET_REQUIRED'],
      ['job stream without Upgrade', `GET /jobs/abc/stream HTTP/1.1\r\nHost: a\r\nX-API-Key: ${k}\r\n\r\n`, 426, 'WEBSOCKET_REQUIRED'],
      ['handshake without a key', `GET /terminal HTTP/1.1\r\nHost: a\r\nX-API-Key: ${k}\r\n${ws}\r\n`, 400, 'BAD_WEBSOCKET_HANDSHAKE'],
      ['handshake with a bad key', `GET /terminal HTTP/1.1\r\nHost: a\r\n${ws}Sec-WebSocket-Key: bad\r\n\r\n`, 400, 'BAD_WEBSOCKET_HANDSHAKE'],
      ['handshake of an old version', 'GET /terminal HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 7\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n', 400, 'BAD_WEBSOCKET_HANDSHAKE'],
      ['upgrade to a route that is not a WebSocket', `GET /jobs HTTP/1.1\r\nHost: a\r\nX-API-Key: ${k}\r\n${ws}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`, 400, 'BAD_WEBSOCKET_HANDSHAKE'],
      ['upgrade to a route that does not exist', `GET /nope HTTP/1.1\r\nHost: a\r\nX-API-Key: ${k}\r\n${ws}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`, 404, 'NOT_FOUND'],
    ]
    for (const [name, request, status, code] of cases) {
      const answer = await rawRequest(server.url, request, { untilAnswer: true })
      assert.equal(answer.status, status, name)
      assert.equal(answer.headers['content-type'], 'application/json; charset=utf-8', name)
      const body = JSON.parse(answer.body) as { error: string, code: string }
      assert.equal(body.code, code, name)
      assert.ok(Object.hasOwn(Errors, body.code), `${name}: ${body.code} is in the catalogue`)
      assert.equal(typeof body.error, 'string', name)
    }
    assert.equal((await server.api('GET', '/health')).status, 200)
  })

  test('hostile job ids never reach the file system', async () => {
    for (const id of ['..%2F..%2Fetc%2Fpasswd', '%2e%2e', '..', 'x'.repeat(100)]) {
      const response = await server.api('GET', `/jobs/${id}/stdout`)
      assert.ok(response.status === 404 || response.status === 400, `${id}: ${response.status}`)
      assert.doesNotMatch(String(response.body), /root:/)
    }
  })

  test('a client that drops the connection mid-body or mid-long-poll does not disturb the server', async () => {
    const url = new URL(server.url)
    await new Promise<void>((resolve) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write(`POST /exec HTTP/1.1\r\nHost: x\r\nX-API-Key: ${server.key}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"command":`)
        socket.destroy()
        resolve()
      })
    })
    const id = await server.submit({ command: 'sleep 0.5' })
    await new Promise<void>((resolve) => {
      const req = httpRequest(`${server.url}/jobs/${id}?wait=30`, { headers: { 'x-api-key': server.key } })
      req.on('error', () => resolve())
      req.end()
      setTimeout(() => { req.destroy(); resolve() }, 50)
    })
    assert.equal((await server.finished(id)).status, 'completed')
    assert.equal((await server.api('GET', '/health')).status, 200)
  })

  test('unknown routes answer 404 JSON with the key', async () => {
    const response = await server.api('GET', '/nope')
    assert.equal(response.status, 404)
    assert.deepEqual(response.body, { error: 'not found', code: 'NOT_FOUND' })
  })
})
