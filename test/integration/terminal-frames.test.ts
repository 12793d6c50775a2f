import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { call, spawnServer, type ServerProcess } from '../helpers/cli-process.js'
import { freePort } from '../helpers/net.js'
import { INVALID_FRAMES, openRawWebSocket } from '../helpers/raw-websocket.js'
import { TerminalClient } from '../helpers/terminal.js'
import { waitFor } from '../helpers/wait.js'

describe('an invalid WebSocket frame closes only its own socket', () => {
  let server: ServerProcess
  let stateDir: string
  let terminalPort: number
  let jobId: string
  before(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'term-frames-'))
    terminalPort = await freePort()
    server = await spawnServer(stateDir, ['--terminal-port', String(terminalPort), '--terminal-orphan-ttl', '0'])
    await waitFor(() => server.output().includes('terminal port listening'), 'the terminal port to listen')
    jobId = (await call(server, 'POST', '/exec', { command: 'sleep 600' })).body.jobId
  })
  after(async () => {
    await call(server, 'DELETE', `/jobs/${jobId}`)
    const code = await server.stop()
    rmSync(stateDir, { recursive: true, force: true })
    assert.equal(code, 0, server.output())
  })

  const endpoints = (): Record<string, string> => ({
    'the terminal port': `http://127.0.0.1:${terminalPort}/?shell=/bin/sh`,
    '/terminal': `${server.url}/terminal?shell=/bin/sh`,
    'a job stream': `${server.url}/jobs/${jobId}/stream`,
  })

  /** The server is alive: it answers HTTP and opens a working terminal on its compatibility port. */
  const assertServerAnswers = async (): Promise<void> => {
    assert.equal(server.child.exitCode, null, server.output())
    assert.equal((await call(server, 'GET', '/health')).status, 200)
  }

  for (const [name, frame] of Object.entries(INVALID_FRAMES)) {
    test(`${name}, before authentication, ends the socket and the server keeps serving`, async () => {
      for (const [where, url] of Object.entries(endpoints())) {
        const raw = await openRawWebSocket(url)
        raw.socket.write(frame)
        await raw.ended
        assert.equal(server.child.exitCode, null, `${where}: ${server.output()}`)
      }
      await assertServerAnswers()
    })
  }

  test('an invalid frame on an authenticated terminal or job socket ends that socket only', async () => {
    for (const [where, url] of Object.entries(endpoints())) {
      for (const frame of Object.values(INVALID_FRAMES)) {
        const raw = await openRawWebSocket(url, { 'x-api-key': server.key })
        if (!where.includes('job')) await waitFor(() => raw.received().includes('"session"'), `${where}: the session frame`)
        raw.socket.write(frame)
        await raw.ended
        assert.equal(server.child.exitCode, null, `${where}: ${server.output()}`)
      }
    }
    await assertServerAnswers()
    const client = await TerminalClient.open(`ws://127.0.0.1:${terminalPort}/?shell=/bin/sh`, { 'x-api-key': server.key })
    await client.sessionId()
    client.type('echo "still-""serving"\r')
    await client.waitForOutput('still-serving')
    client.type('exit\r')
    await client.closed
    assert.doesNotMatch(server.output(), /Unhandled 'error'|uncaught/i)
  })
})
