import assert from 'node:assert/strict'
import { request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { startServer, type TestServer } from '../helpers/server.js'

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

  test('persistent_shell mode answers 400 saying it is not available yet', async () => {
    for (const mode of ['persistent_shell']) {
      const response = await server.api('POST', '/exec', { mode, command: 'x', prompt: 'hi' })
      assert.equal(response.status, 400)
      assert.equal(response.body.code, 'MODE_NOT_AVAILABLE')
      assert.match(response.body.error, new RegExp(`mode ${mode} is not available`))
    }
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
