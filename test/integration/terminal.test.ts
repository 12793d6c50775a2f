import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { processAlive } from '../helpers/processes.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { TerminalClient } from '../helpers/terminal.js'
import { waitFor } from '../helpers/wait.js'

function wsUrl (server: TestServer, query: Record<string, string> = {}): string {
  const search = new URLSearchParams({ shell: '/bin/bash', ...query }).toString()
  return `${server.url.replace(/^http/, 'ws')}/terminal?${search}`
}

async function openTerminal (server: TestServer, query: Record<string, string> = {}): Promise<TerminalClient> {
  const client = await TerminalClient.open(wsUrl(server, query), { 'x-api-key': server.key })
  assert.equal(client.refused, undefined, JSON.stringify(client.refused))
  await client.sessionId()
  return client
}

/** The pid a shell command prints as `label:<pid>`. */
async function printedPid (client: TerminalClient, label: string): Promise<number> {
  const output = await client.waitForOutput(new RegExp(`${label}:(\\d+)`))
  return Number(new RegExp(`${label}:(\\d+)`).exec(output)?.[1])
}

describe('terminal WebSocket', () => {
  let server: TestServer
  before(async () => { server = await startServer({ terminalOrphanTtl: '60' }) })
  after(async () => { await server.close() })

  test('typed input runs in the shell and its output comes back; the first frame is the session', async () => {
    const client = await openTerminal(server)
    assert.deepEqual(Object.keys(client.controls[0] ?? {}).sort(), ['cols', 'id', 'readonly', 'replay', 'rows', 'type'])
    client.type('echo "hello-""terminal"\r')
    await client.waitForOutput('hello-terminal')
    client.type('exit\r')
    await client.closed
  })

  test('the shell starts in workdir with the asked size, and resize changes what stty reports', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'term-workdir-'))
    const client = await openTerminal(server, { workdir: dir, cols: '91', rows: '33' })
    client.type('pwd; stty size\r')
    await client.waitForOutput(`${dir}\r\n33 91`)
    client.send({ type: 'resize', cols: 132, rows: 40 })
    client.type('stty size\r')
    await client.waitForOutput('40 132')
    client.send({ type: 'resize', cols: 5000, rows: 1 }) // clamped to 500 × 2
    client.type('stty size\r')
    await client.waitForOutput('2 500')
    client.type('exit\r')
    await client.closed
    rmSync(dir, { recursive: true, force: true })
  })

  test('`command` is typed after the shell starts, without being spliced into a command of ours', async () => {
    const dir = mkdtempSync(join(tmpdir(), "term-it's-"))
    const client = await openTerminal(server, { workdir: dir, command: 'echo "quote\'d ""marker"' })
    await client.waitForOutput("quote'd marker")
    client.type('exit\r')
    await client.closed
    rmSync(dir, { recursive: true, force: true })
  })

  test('`exit 7` sends an exit frame with code 7, then closes with 1000', async () => {
    const client = await openTerminal(server)
    client.type('exit 7\r')
    const closed = await client.closed
    assert.equal(closed.code, 1000)
    assert.deepEqual(client.controls.at(-1), { type: 'exit', exitCode: 7, signal: null, reason: 'exited' })
  })

  test('ping is answered with pong; malformed, unknown and binary frames are ignored', async () => {
    const client = await openTerminal(server)
    client.send('not json')
    client.send('[1,2]')
    client.send({ type: 'launch-missiles' })
    client.send({ type: 'input', data: 42 })
    client.socket.send(Buffer.from([0, 1, 2]), { binary: true })
    client.send({ type: 'ping' })
    await client.waitForControl('pong')
    client.type('echo "still-""alive"\r')
    await client.waitForOutput('still-alive')
    client.type('exit\r')
    await client.closed
  })

  test('a multi-byte character split across two writes of the program arrives whole', async () => {
    const client = await openTerminal(server)
    client.type("printf '\\342\\202'; sleep 0.2; printf '\\254-euro\\n'\r")
    await client.waitForOutput('€-euro')
    assert.ok(!client.output.includes('\ufffd'), 'no replacement character')
    client.type('exit\r')
    await client.closed
  })

  test('GET /terminals lists sessions and DELETE /terminals/:id ends one', async () => {
    const client = await openTerminal(server)
    const id = await client.sessionId()
    client.type('echo x\r')
    const listed = await waitFor(async () => {
      const { body } = await server.api('GET', '/terminals')
      const found = body.terminals.find((t: any) => t.id === id)
      return found?.lastInputAt ? found : undefined
    }, 'the terminal to be listed with its last input')
    assert.deepEqual(Object.keys(listed).sort(), ['clients', 'cols', 'createdAt', 'id', 'lastInputAt', 'pid', 'rows', 'shell', 'workdir'])
    assert.equal(listed.clients, 1)
    const deleted = await server.api('DELETE', `/terminals/${id}`)
    assert.equal(deleted.status, 200)
    assert.deepEqual(deleted.body, { id, status: 'ended' })
    assert.equal((await client.closed).code, 1000)
    assert.equal(client.controls.at(-1)?.reason, 'closed')
    assert.equal(processAlive(listed.pid), false)
    assert.equal((await server.api('DELETE', `/terminals/${id}`)).body.code, 'TERMINAL_NOT_FOUND')
  })

  test('ending a terminal kills every process of its session, nohup and disowned jobs included', async () => {
    const client = await openTerminal(server)
    client.type('nohup sleep 1001 >/dev/null 2>&1 & echo "nohup:$!"; sleep 1002 & disown; echo "disowned:$!"; sleep 1003 & echo "plain:$!"\r')
    const pids = [await printedPid(client, 'nohup'), await printedPid(client, 'disowned'), await printedPid(client, 'plain')]
    assert.ok(pids.every(processAlive))
    client.type('exit\r')
    await client.closed
    await waitFor(() => pids.every((pid) => !processAlive(pid)), 'the background jobs to be gone')
  })

  test('a read-only viewer sees the output but cannot type', async () => {
    const marker = join(tmpdir(), `viewer-typed-this-${process.pid}-${Date.now()}`)
    const owner = await openTerminal(server)
    const viewer = await openTerminal(server, { session: await owner.sessionId(), readonly: '1' })
    assert.equal((await viewer.waitForControl('session')).readonly, true)
    viewer.type(`touch ${marker}\r`)
    viewer.send({ type: 'resize', cols: 33, rows: 7 })
    // The pong proves the server handled the viewer's frames before the owner types.
    viewer.send({ type: 'ping' })
    await viewer.waitForControl('pong')
    owner.type('stty size; echo "from-""owner"\r')
    await viewer.waitForOutput('from-owner')
    assert.ok(!owner.output.includes('viewer-typed-this'))
    assert.ok(!owner.output.includes('7 33'), 'the viewer could not resize')
    owner.type('exit\r')
    await Promise.all([owner.closed, viewer.closed])
    assert.equal(viewer.controls.at(-1)?.type, 'exit')
    assert.equal(existsSync(marker), false, 'the file the viewer tried to create does not exist')
  })

  test('bad queries are refused before the upgrade: missing workdir, unknown shell, unknown session', async () => {
    const cases: Array<[Record<string, string>, number, string]> = [
      [{ workdir: '/no/such/dir' }, 400, 'WORKDIR_NOT_FOUND'],
      [{ shell: 'no-such-shell-xyz' }, 400, 'INVALID_REQUEST'],
      [{ session: 'nope' }, 404, 'TERMINAL_NOT_FOUND'],
      [{ cols: 'x'.repeat(100) }, 400, 'INVALID_REQUEST'],
    ]
    for (const [query, status, code] of cases) {
      const client = await TerminalClient.open(wsUrl(server, query), { 'x-api-key': server.key })
      assert.equal(client.refused?.status, status, JSON.stringify(query))
      assert.equal(client.refused?.body.code, code)
    }
  })

  test('health reports terminal support and the number of sessions', async () => {
    const client = await openTerminal(server)
    const health = (await server.api('GET', '/health')).body
    assert.equal(health.terminal_supported, true)
    assert.equal(health.terminal_sessions, 1)
    client.type('exit\r')
    await client.closed
    await waitFor(async () => (await server.api('GET', '/health')).body.terminal_sessions === 0, 'no sessions')
  })
})

describe('terminal authentication', () => {
  let server: TestServer
  before(async () => { server = await startServer({}) })
  after(async () => { await server.close() })

  const noSessions = async (): Promise<void> => {
    assert.deepEqual((await server.api('GET', '/terminals')).body.terminals, [])
  }

  test('Authorization: Bearer on the upgrade works', async () => {
    const client = await TerminalClient.open(wsUrl(server), { authorization: `Bearer ${server.key}` })
    await client.sessionId()
    client.type('exit\r')
    await client.closed
  })

  test('a ticket works once; the second use is not authenticated', async () => {
    const { body } = await server.api('POST', '/terminal/tickets')
    assert.equal(body.expiresInSeconds, 30)
    const first = await TerminalClient.open(wsUrl(server, { ticket: body.ticket }))
    await first.sessionId()
    first.type('exit\r')
    await first.closed
    const second = await TerminalClient.open(wsUrl(server, { ticket: body.ticket }))
    second.type('echo reused\r') // not an auth message: the socket is refused
    assert.equal((await second.closed).code, 3401)
    assert.equal(second.controls.length, 0)
    assert.equal(second.output, '')
  })

  test('a first message {"type":"auth"} within 5 s authenticates', async () => {
    const client = await TerminalClient.open(wsUrl(server))
    client.send({ type: 'auth', key: server.key })
    await client.sessionId()
    client.type('exit\r')
    await client.closed
  })

  test('without authentication no shell is spawned and the socket closes with 3401', async () => {
    const marker = join(tmpdir(), `unauth-${process.pid}-${Date.now()}`)
    const client = await TerminalClient.open(wsUrl(server, { command: `touch ${marker}` }))
    client.type(`touch ${marker}\r`)
    assert.equal((await client.closed).code, 3401)
    assert.equal(client.output, '')
    assert.equal(existsSync(marker), false)
    await noSessions()
    const wrong = await TerminalClient.open(wsUrl(server))
    wrong.send({ type: 'auth', key: 'wrong' })
    assert.equal((await wrong.closed).code, 3401)
    await noSessions()
  })

  test('the raw key in the URL is refused, even when it is right', async () => {
    for (const name of ['key', 'api_key', 'apiKey', 'token']) {
      const client = await TerminalClient.open(wsUrl(server, { [name]: server.key }))
      assert.equal(client.refused?.status, 400)
      assert.equal(client.refused?.body.code, 'KEY_IN_URL')
    }
    await noSessions()
  })

  test('a foreign Origin is refused; the server\'s own is allowed', async () => {
    const foreign = await TerminalClient.open(wsUrl(server), { 'x-api-key': server.key, origin: 'https://evil.example' })
    assert.equal(foreign.refused?.status, 403)
    const own = await TerminalClient.open(wsUrl(server), { 'x-api-key': server.key, origin: server.url })
    await own.sessionId()
    own.type('exit\r')
    await own.closed
  })
})

describe('terminal limits and lifetimes', () => {
  test('past --max-terminals a new socket gets an error frame and close 1013', async () => {
    const server = await startServer({ maxTerminals: '1' })
    try {
      const first = await openTerminal(server)
      const second = await TerminalClient.open(wsUrl(server), { 'x-api-key': server.key })
      const closed = await second.closed
      assert.equal(closed.code, 1013)
      assert.deepEqual(second.controls, [{ type: 'error', message: 'Max terminal sessions (1) reached' }])
      // Reattaching to the existing session is not a new session.
      const viewer = await openTerminal(server, { session: await first.sessionId() })
      first.type('exit\r')
      await Promise.all([first.closed, viewer.closed])
    } finally {
      await server.close()
    }
  })

  test('a dropped socket leaves the shell running; after the orphan TTL it is killed', async () => {
    const server = await startServer({ terminalOrphanTtl: '1' })
    try {
      const client = await openTerminal(server)
      client.type('echo "pid:$$"\r')
      const pid = await printedPid(client, 'pid')
      client.close()
      await client.closed
      assert.equal(processAlive(pid), true)
      assert.equal((await server.api('GET', '/terminals')).body.terminals[0].clients, 0)
      await waitFor(() => !processAlive(pid), 'the orphaned shell to be killed')
      await waitFor(async () => (await server.api('GET', '/terminals')).body.terminals.length === 0, 'the session to be gone')
    } finally {
      await server.close()
    }
  })

  test('the lifetime ends a terminal even while someone types', async () => {
    const server = await startServer({ terminalLifetime: '1' })
    try {
      const client = await openTerminal(server)
      const typing = setInterval(() => client.type(' '), 100)
      await client.closed
      clearInterval(typing)
      assert.equal(client.controls.at(-1)?.reason, 'lifetime reached')
    } finally {
      await server.close()
    }
  })

  test('stopping the server ends every terminal and every process of their sessions', async () => {
    const server = await startServer({})
    const client = await openTerminal(server)
    client.type('nohup sleep 1004 >/dev/null 2>&1 & echo "nohup:$!"; echo "shell:$$"\r')
    const pids = [await printedPid(client, 'nohup'), await printedPid(client, 'shell')]
    await server.close()
    assert.equal((await client.closed).code, 1000)
    assert.equal(client.controls.at(-1)?.reason, 'server stopping')
    assert.deepEqual(pids.filter(processAlive), [])
  })

  test('hostile and oversized terminal ids are a 404 or 400, never a crash', async () => {
    const server = await startServer({})
    try {
      assert.equal((await server.api('DELETE', '/terminals/..%2F..%2Fetc%2Fpasswd')).status, 404)
      assert.equal((await server.api('DELETE', '/terminals/__proto__')).status, 404)
      assert.equal((await server.api('DELETE', `/terminals/${'x'.repeat(65)}`)).status, 400)
      const client = await TerminalClient.open(wsUrl(server, { session: '__proto__' }), { 'x-api-key': server.key })
      assert.equal(client.refused?.status, 404)
    } finally {
      await server.close()
    }
  })

  test('idle, lifetime and orphan timeouts beyond 24.8 days (2^31 ms) do not end a terminal at once', async () => {
    const server = await startServer({ terminalIdleTimeout: '2500000', terminalLifetime: '31536000', terminalOrphanTtl: '604800' })
    try {
      const client = await openTerminal(server)
      const id = await client.sessionId()
      client.type('echo "still-""open"\r')
      await client.waitForOutput('still-open')
      client.close()
      await client.closed
      await waitFor(async () => (await server.api('GET', '/terminals')).body.terminals[0]?.clients === 0, 'the terminal to be orphaned')
      const again = await openTerminal(server, { session: id })
      again.send({ type: 'ping' })
      await again.waitForControl('pong')
      again.type('echo "after-""reattach"\r')
      await again.waitForOutput('after-reattach')
      assert.equal(again.controls.some((c) => c.type === 'exit'), false)
      again.type('exit\r')
      assert.equal((await again.closed).code, 1000)
      assert.equal(again.controls.at(-1)?.reason, 'exited')
    } finally {
      await server.close()
    }
  })

  test('the idle timeout ends a terminal nobody types in', async () => {
    const server = await startServer({ terminalIdleTimeout: '1' })
    try {
      const client = await openTerminal(server)
      await client.closed
      assert.equal(client.controls.at(-1)?.reason, 'idle timeout')
    } finally {
      await server.close()
    }
  })
})

describe('terminal reattach', () => {
  let server: TestServer
  let dir: string
  before(async () => {
    server = await startServer({ terminalOrphanTtl: '60' })
    dir = mkdtempSync(join(tmpdir(), 'term-reattach-'))
    writeFileSync(join(dir, 'poem.txt'), Array.from({ length: 200 }, (_, i) => `line ${i + 1} of the reattach poem`).join('\n') + '\n')
  })
  after(async () => {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('reattaching replays the current screen of a full-screen program, then live output follows', async () => {
    const client = await openTerminal(server, { workdir: dir, cols: '80', rows: '24' })
    const id = await client.sessionId()
    client.type('less poem.txt\r')
    await client.waitForOutput('line 23 of the reattach poem')
    client.close()
    await client.closed

    const again = await openTerminal(server, { session: id })
    const session = await again.waitForControl('session')
    assert.equal(session.replay, true)
    assert.equal(session.id, id)
    await again.waitForOutput('line 23 of the reattach poem')
    assert.ok(again.output.startsWith('\u001bc'), 'the replay starts with a terminal reset')
    assert.ok(again.output.includes('\u001b[?1049h'), 'the replay switches to the alternate screen like less did')
    assert.ok(!again.output.includes('line 30 of'), 'only what is on the screen is replayed')
    again.type('q')
    again.type('echo "live-after-""reattach"\r')
    await again.waitForOutput('live-after-reattach')
    again.type('exit\r')
    await again.closed
  })
})

describe('terminal reattach after a flood', () => {
  test('the replayed screen ends with the last lines of a flood of output', async () => {
    const server = await startServer({ terminalOrphanTtl: '60' })
    try {
      const client = await openTerminal(server, { cols: '80', rows: '24' })
      const id = await client.sessionId()
      client.type('seq 1 3000000; echo "flood-""over"\r')
      await client.waitForOutput('flood-over', 60_000)
      client.close()
      await client.closed
      const again = await openTerminal(server, { session: id })
      await again.waitForOutput('flood-over')
      assert.match(again.output, /2999999\r\n3000000\r\n/)
      again.type('exit\r')
      await again.closed
    } finally {
      await server.close()
    }
  })
})
