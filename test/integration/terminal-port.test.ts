import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { Errors } from '../../src/errors.js'
import { NODE_SERVER_OPTIONS } from '../../src/http/limits.js'
import { call, runCli, spawnServer, type ServerProcess } from '../helpers/cli-process.js'
import { freePort } from '../helpers/net.js'
import { rawRequest } from '../helpers/raw-http.js'
import { startServer } from '../helpers/server.js'
import { TerminalClient } from '../helpers/terminal.js'
import { waitFor } from '../helpers/wait.js'

describe("devpilot's terminal port (--terminal-port)", () => {
  let server: ServerProcess
  let port: number
  let stateDir: string
  before(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'term-port-'))
    port = await freePort()
    server = await spawnServer(stateDir, ['--terminal-port', String(port)])
    await waitFor(() => server.output().includes('terminal port listening'), 'the terminal port to listen')
  })
  after(async () => {
    await server.stop()
    rmSync(stateDir, { recursive: true, force: true })
  })

  test('every path is the terminal socket, with the same protocol as /terminal', async () => {
    const client = await TerminalClient.open(`ws://127.0.0.1:${port}/any/path?cols=90&rows=20&shell=/bin/sh`, { 'x-api-key': server.key })
    await client.sessionId()
    client.type('stty size\r')
    await client.waitForOutput('20 90')
    client.type('exit 4\r')
    assert.equal((await client.closed).code, 1000)
    assert.equal(client.controls.at(-1)?.exitCode, 4)
  })

  test('first-message auth works, a wrong key closes with 3401, and a key in the URL is refused', async () => {
    const good = await TerminalClient.open(`ws://127.0.0.1:${port}/?shell=/bin/sh`)
    good.send({ type: 'auth', key: server.key })
    await good.sessionId()
    good.type('exit\r')
    await good.closed
    const bad = await TerminalClient.open(`ws://127.0.0.1:${port}/`)
    bad.send({ type: 'auth', key: 'nope' })
    assert.equal((await bad.closed).code, 3401)
    await waitFor(() => server.output().split('\n').some((line) => line.includes('authentication failed') && line.includes('terminal port')),
      'the failure logged with the route "terminal port"')
    const inUrl = await TerminalClient.open(`ws://127.0.0.1:${port}/?key=${server.key}`)
    assert.equal(inUrl.refused?.status, 400)
    assert.equal(inUrl.refused?.body.code, 'KEY_IN_URL')
  })

  test('a plain HTTP request is answered 426 in JSON; a foreign Origin is refused', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/`)
    assert.equal(response.status, 426)
    assert.equal((await response.json()).code, 'UPGRADE_REQUIRED')
    const foreign = await TerminalClient.open(`ws://127.0.0.1:${port}/`, { 'x-api-key': server.key, origin: 'https://evil.example' })
    assert.equal(foreign.refused?.status, 403)
  })

  test('refusals before the socket opens are JSON with a catalogue code, as on the main port', async () => {
    const ws = 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n'
    const wsKey = 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
    const k = server.key
    const cases: Array<[string, string, number, string]> = [
      ['handshake without a key', `GET / HTTP/1.1\r\nHost: a\r\nX-API-Key: ${k}\r\n${ws}\r\n`, 400, 'BAD_WEBSOCKET_HANDSHAKE'],
      ['handshake with a bad key', `GET / HTTP/1.1\r\nHost: a\r\n${ws}Sec-WebSocket-Key: bad\r\n\r\n`, 400, 'BAD_WEBSOCKET_HANDSHAKE'],
      ['handshake of an old version', `GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 7\r\n${wsKey}\r\n`, 400, 'BAD_WEBSOCKET_HANDSHAKE'],
      ['handshake with a bad protocol list', `GET / HTTP/1.1\r\nHost: a\r\n${ws}${wsKey}Sec-WebSocket-Protocol: a b\r\n\r\n`, 400, 'BAD_WEBSOCKET_HANDSHAKE'],
      ['handshake that is not a GET', `POST / HTTP/1.1\r\nHost: a\r\n${ws}${wsKey}\r\n`, 400, 'BAD_WEBSOCKET_HANDSHAKE'],
      ['upgrade to another protocol', 'GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n', 426, 'UPGRADE_REQUIRED'],
      ['upgrade without Host', `GET / HTTP/1.1\r\nX-API-Key: ${k}\r\n${ws}${wsKey}\r\n`, 400, 'MALFORMED_REQUEST'],
      ['plain request without Host', 'GET / HTTP/1.1\r\n\r\n', 400, 'MALFORMED_REQUEST'],
      ['Expect: teapot', 'GET / HTTP/1.1\r\nHost: a\r\nExpect: teapot\r\n\r\n', 417, 'EXPECTATION_FAILED'],
      ['garbage request line', 'GARBAGE\r\n\r\n', 400, 'MALFORMED_REQUEST'],
      ['head over 16 KiB', `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`, 431, 'HEADERS_TOO_LARGE'],
    ]
    for (const [name, request, status, code] of cases) {
      const answer = await rawRequest(`http://127.0.0.1:${port}`, request, { untilAnswer: true })
      assert.equal(answer.status, status, name)
      assert.equal(answer.headers['content-type'], 'application/json; charset=utf-8', name)
      const body = JSON.parse(answer.body) as { error: string, code: string }
      assert.equal(body.code, code, name)
      assert.ok(Object.hasOwn(Errors, body.code), `${name}: ${body.code} is in the catalogue`)
      assert.equal(typeof body.error, 'string', name)
    }
  })

  // Last in this group: it leaves the address over the failed-auth limit.
  test('failed first-message auths are rate limited together with the main port', async () => {
    let refused: TerminalClient['refused']
    for (let i = 0; i < 40 && !refused; i++) {
      const client = await TerminalClient.open(`ws://127.0.0.1:${port}/`)
      refused = client.refused
      if (refused) break
      client.send({ type: 'auth', key: 'nope' })
      assert.equal((await client.closed).code, 3401)
    }
    assert.equal(refused?.status, 429)
    assert.equal(refused?.body.code, 'TOO_MANY_AUTH_FAILURES')
    assert.ok(Number(refused?.headers['retry-after']) > 0)
    assert.equal((await call({ url: server.url, key: 'nope' }, 'GET', '/jobs')).status, 429)
    const keyed = await TerminalClient.open(`ws://127.0.0.1:${port}/?shell=/bin/sh`, { 'x-api-key': server.key })
    await keyed.sessionId()
    keyed.type('exit\r')
    await keyed.closed
  })
})

describe('terminal port start-up', () => {
  test("the terminal port has the main port's HTTP timeouts, not Node's defaults", async () => {
    const server = await startServer({ terminalPort: '1' })
    try {
      const portServer = server.app.terminalPortServer
      assert.ok(portServer)
      for (const name of ['headersTimeout', 'requestTimeout', 'keepAliveTimeout'] as const) {
        assert.equal(portServer[name], NODE_SERVER_OPTIONS[name], name)
        assert.equal(portServer[name], server.app.server[name], name)
      }
    } finally {
      await server.close()
    }
  })

  test('an explicit --terminal-port that is taken stops the server with a clear error', async () => {
    const taken = createServer().listen(0, '127.0.0.1')
    await new Promise((resolve) => taken.once('listening', resolve))
    const port = (taken.address() as { port: number }).port
    const stateDir = mkdtempSync(join(tmpdir(), 'term-port-taken-'))
    try {
      const result = await runCli(['--port', '0', '--state-dir', stateDir, '--terminal-port', String(port)])
      assert.equal(result.code, 1)
      assert.match(result.stderr + result.stdout, new RegExp(`cannot listen on --terminal-port ${port}: EADDRINUSE`))
    } finally {
      taken.close()
      rmSync(stateDir, { recursive: true, force: true })
    }
  })
})

describe('terminals and POST /update', () => {
  test("an open terminal blocks the update with devpilot's 409; a drain succeeds once it ends and answers 409 when it does not", async () => {
    let restarts = 0
    const server = await startServer({}, {}, { onRestart: () => { restarts++ } })
    const open = async (): Promise<TerminalClient> => {
      const client = await TerminalClient.open(`${server.url.replace(/^http/, 'ws')}/terminal?shell=/bin/sh`, { 'x-api-key': server.key })
      await client.sessionId()
      return client
    }
    try {
      const first = await open()
      const refused = await server.api('POST', '/update')
      assert.equal(refused.status, 409)
      assert.deepEqual(refused.body, { error: 'cannot update while terminal sessions are active', terminal_sessions: 1, code: 'UPDATE_BLOCKED' })

      // Not ended within the drain: 409 again, and new terminals are accepted afterwards.
      const timedOut = await server.api('POST', '/update', { drain: 1 })
      assert.equal(timedOut.status, 409)
      assert.equal(timedOut.body.terminal_sessions, 1)
      const second = await open()
      second.type('exit\r')
      await second.closed

      // Ends within the drain: the update goes ahead.
      const update = server.api('POST', '/update', { drain: 30 })
      await waitFor(async () => (await server.api('GET', '/health')).status === 200, 'health during the drain')
      first.type('sleep 1; exit\r')
      assert.equal((await update).status, 200)
      await waitFor(() => restarts === 1, 'the restart hook')
    } finally {
      await server.close()
    }
  })
})
