import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { toErrorResponse } from '../../src/errors.js'
import type { McpBackend } from '../../src/mcp/backend.js'
import { registerMcpRoutes } from '../../src/mcp/routes.js'
import { waitFor } from '../helpers/wait.js'

const IDLE_MS = 60_000
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }
const INITIALIZE = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'limits', version: '1' } } })

describe('MCP session limits', () => {
  let app: FastifyInstance
  let url: string
  let clock = 1_000_000

  before(async () => {
    app = Fastify()
    // Why the app's mapping: the same {error, code} and Retry-After as the real server.
    app.setErrorHandler(async (err, _request, reply) => {
      const { status, body, retryAfterSec } = toErrorResponse(err)
      if (retryAfterSec !== undefined) reply.header('retry-after', String(retryAfterSec))
      return await reply.status(status).send(body)
    })
    // Why an empty backend: initialize, ping and tools/list never reach it.
    await registerMcpRoutes(app, {} as McpBackend, pino({ level: 'silent' }), { maxSessions: 2, idleMs: IDLE_MS, now: () => clock })
    url = `${await app.listen({ host: '127.0.0.1', port: 0 })}/mcp`
  })
  after(async () => { await app.close() })

  const initialize = async (): Promise<Response> => {
    const response = await fetch(url, { method: 'POST', headers: HEADERS, body: INITIALIZE })
    await response.text()
    return response
  }
  const open = async (): Promise<string> => {
    const response = await initialize()
    assert.equal(response.status, 200)
    return response.headers.get('mcp-session-id') as string
  }
  const ping = async (sessionId: string): Promise<number> => {
    const response = await fetch(url, { method: 'POST', headers: { ...HEADERS, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' }, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }) })
    await response.text()
    return response.status
  }
  const end = async (sessionId: string): Promise<void> => { await (await fetch(url, { method: 'DELETE', headers: { 'mcp-session-id': sessionId } })).text() }

  const listen = async (sessionId: string): Promise<Response> => {
    const stream = await fetch(url, { method: 'GET', headers: { accept: 'text/event-stream', 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' } })
    assert.equal(stream.status, 200)
    return stream
  }

  test('a new session over the limit ends the least recently used idle one, whose client then gets 404', async () => {
    const older = await open()
    clock += 1000
    const newer = await open()
    clock += 1000
    assert.equal(await ping(older), 200)
    const third = await open()
    assert.equal(await ping(newer), 404)
    assert.equal(await ping(older), 200)
    await end(older)
    await end(third)
  })

  test('refuses an initialize with 429 MCP_TOO_MANY_SESSIONS and Retry-After while every session has a request in progress', async () => {
    const first = await open()
    const second = await open()
    const streams = [await listen(first), await listen(second)]
    const refused = await fetch(url, { method: 'POST', headers: HEADERS, body: INITIALIZE })
    assert.equal(refused.status, 429)
    assert.equal(refused.headers.get('retry-after'), '60')
    assert.deepEqual(await refused.json(), {
      error: 'too many MCP sessions (limit 2), each with a request in progress; retry later',
      code: 'MCP_TOO_MANY_SESSIONS',
    })
    assert.equal(await ping(first), 200, 'the live sessions are untouched')
    await streams[1]?.body?.cancel()
    const third = await waitFor(async () => { const r = await initialize(); return r.status === 200 ? r.headers.get('mcp-session-id') : undefined }, 'room once a stream ended')
    assert.equal(await ping(second), 404)
    await streams[0]?.body?.cancel()
    await end(first)
    await end(third)
  })

  test('ends sessions idle past the expiry; their clients then get 404 MCP_SESSION_NOT_FOUND', async () => {
    const idle = await open()
    const used = await open()
    clock += IDLE_MS / 2
    assert.equal(await ping(used), 200)
    clock += IDLE_MS / 2 + 1
    const fresh = await open()
    assert.equal(await ping(idle), 404)
    assert.equal(await ping(used), 200, 'used half-way through, it is not idle yet')
    await end(used)
    await end(fresh)
  })

  test('never expires a session while one of its requests is open (a GET event stream)', async () => {
    const listening = await open()
    const quiet = await open()
    const stream = await listen(listening)
    clock += IDLE_MS + 1
    const fresh = await open()
    assert.equal(await ping(quiet), 404)
    assert.equal(await ping(listening), 200)
    await stream.body?.cancel()
    await end(listening)
    await end(fresh)
  })
})
