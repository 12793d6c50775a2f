import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { after, before, describe, test } from 'node:test'
import { pino } from 'pino'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { call, spawnServer, type ServerProcess } from '../helpers/cli-process.js'
import { freePort } from '../helpers/net.js'
import { INVALID_FRAMES, jsonFrame, openRawWebSocket, type RawWebSocket } from '../helpers/raw-websocket.js'
import { TerminalClient } from '../helpers/terminal.js'
import { makeStateDir } from '../helpers/server.js'
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

describe('bad frames in the log', () => {
  test('a bad frame from an unauthenticated socket on /terminal is logged at debug, never at error level', async () => {
    const lines: Array<{ level: number, msg?: string, err?: { message?: string } }> = []
    const sink = new Writable({
      write (chunk: Buffer, _encoding, callback) {
        for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line))
        callback()
      },
    })
    const stateDir = makeStateDir()
    const app = await buildApp(loadConfig({ port: '0', stateDir }, {}), pino({ level: 'debug' }, sink), { AGENT_RUNTIME_API_KEY: 'k' })
    try {
      await app.listen({ host: '127.0.0.1', port: 0 })
      const address = app.server.address()
      const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/terminal?shell=/bin/sh`
      for (const frame of Object.values(INVALID_FRAMES)) {
        const raw = await openRawWebSocket(url)
        raw.socket.write(frame)
        await raw.ended
      }
      await waitFor(() => lines.filter((line) => line.level === 20 && line.msg === 'WebSocket closed after an error').length >= Object.keys(INVALID_FRAMES).length,
        'a debug line for each bad frame')
      assert.deepEqual(lines.filter((line) => line.level >= 50), [])
    } finally {
      await app.close()
      rmSync(stateDir, { recursive: true, force: true })
    }
  })
})

describe('frames sent right behind the authentication are never lost', () => {
  let server: ServerProcess
  let stateDir: string
  let terminalPort: number
  before(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'term-first-keys-'))
    terminalPort = await freePort()
    server = await spawnServer(stateDir, ['--terminal-port', String(terminalPort), '--terminal-orphan-ttl', '0'])
    await waitFor(() => server.output().includes('terminal port listening'), 'the terminal port to listen')
  })
  after(async () => {
    const code = await server.stop()
    rmSync(stateDir, { recursive: true, force: true })
    assert.equal(code, 0, server.output())
  })

  /** A resize and a command split over several input frames: any lost frame changes what the shell prints. */
  const firstKeys = (round: number): Buffer => Buffer.concat([
    jsonFrame({ type: 'resize', cols: 77, rows: 11 }),
    jsonFrame({ type: 'input', data: 'stty size; ' }),
    jsonFrame({ type: 'input', data: 'echo "first-"' }),
    jsonFrame({ type: 'input', data: `"keys-${round}"` }),
    jsonFrame({ type: 'input', data: '\r' }),
  ])

  /** What the shell printed once the first keys' command ran (or the deadline passed); then ends the shell. */
  const shellOutput = async (raw: RawWebSocket, round: number): Promise<string> => {
    const output = (): string => raw.messages().filter((m) => !m.startsWith('\u0000')).join('')
    try {
      await waitFor(() => output().includes(`first-keys-${round}`), `round ${round}: the output of every frame (got ${JSON.stringify(output())})`)
      raw.socket.write(jsonFrame({ type: 'input', data: 'exit\r' }))
      await waitFor(() => raw.messages().some((m) => m.startsWith('\u0000{"type":"exit"')), `round ${round}: the shell to exit`)
    } finally {
      raw.socket.destroy()
    }
    return output()
  }

  const ROUNDS = 12
  for (const where of ['the terminal port', '/terminal']) {
    const url = (): string => where === '/terminal' ? `${server.url}/terminal?shell=/bin/sh` : `http://127.0.0.1:${terminalPort}/?shell=/bin/sh`

    test(`on ${where}, keys in the same TCP write as a first-message auth all reach the shell`, async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const raw = await openRawWebSocket(url())
        raw.socket.write(Buffer.concat([jsonFrame({ type: 'auth', key: server.key }), firstKeys(round)]))
        const output = await shellOutput(raw, round)
        assert.match(output, /11 77/, `round ${round}: the resize`)
        assert.match(output, new RegExp(`first-keys-${round}`), `round ${round}: every input frame`)
      }
    })

    test(`on ${where}, keys in the same TCP write as the upgrade with a key header all reach the shell`, async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const raw = await openRawWebSocket(url(), { 'x-api-key': server.key }, firstKeys(round))
        const output = await shellOutput(raw, round)
        assert.match(output, /11 77/, `round ${round}: the resize`)
        assert.match(output, new RegExp(`first-keys-${round}`), `round ${round}: every input frame`)
      }
    })
  }
})
