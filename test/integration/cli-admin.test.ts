import assert from 'node:assert/strict'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createServer } from 'node:net'
import { after, before, describe, test } from 'node:test'
import * as pty from 'node-pty'
import { spawnServer, type ServerProcess } from '../helpers/cli-process.js'
import { BUILT_CLI, runBuiltCli } from '../helpers/built-cli.js'
import { freePort } from '../helpers/net.js'
import { makeStateDir } from '../helpers/server.js'
import { TerminalClient } from '../helpers/terminal.js'
import { waitFor } from '../helpers/wait.js'

const ESC = '\u001b['

// Output for scripts (--json), terminals from the command line, and colour only where it belongs.
describe('agent-server status, health, exec, terminals for scripts and people', () => {
  let stateDir: string
  let server: ServerProcess
  const cli = async (args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null, stdout: string, stderr: string }> =>
    runBuiltCli(args, { AGENT_RUNTIME_HOME: stateDir, ...env })

  before(async () => {
    stateDir = makeStateDir()
    server = await spawnServer(stateDir, [], { AGENT_RUNTIME_API_KEY: '' })
    await waitFor(() => server.output().includes('Web terminal:'), 'the banner', 10_000)
  })
  after(async () => {
    await server.stop()
    rmSync(stateDir, { recursive: true, force: true })
  })

  test('status --json describes the running server in one object, and says running: false with exit 1 when none runs', async () => {
    const running = await cli(['status', '--json'])
    assert.equal(running.code, 0, running.stderr)
    const status = JSON.parse(running.stdout)
    assert.equal(status.running, true)
    assert.equal(status.url, server.url)
    assert.equal(status.pid, server.child.pid)
    assert.equal(status.health.authenticated, true)
    assert.equal(typeof status.uptimeSeconds, 'number')
    const empty = makeStateDir()
    try {
      const none = await runBuiltCli(['status', '--json', '--state-dir', empty])
      assert.equal(none.code, 1)
      assert.deepEqual(JSON.parse(none.stdout), { running: false, stateDir: empty })
    } finally {
      rmSync(empty, { recursive: true, force: true })
    }
  })

  test('health prints a summary for people and the server JSON with --json', async () => {
    const human = await cli(['health'])
    assert.equal(human.code, 0, human.stderr)
    assert.match(human.stdout, new RegExp(`^${server.url}: ok, agent-server \\S+ on \\S+, pid ${server.child.pid}, up `))
    assert.match(human.stdout, /^jobs: \d+ held; running \d+\/\d+, pending \d+\/\d+$/m)
    const json = await cli(['health', '--json'])
    assert.equal(json.code, 0, json.stderr)
    assert.equal(JSON.parse(json.stdout).pid, server.child.pid)
    const refused = await cli(['health', '--json', '--key', 'wrong'])
    assert.equal(refused.code, 1)
    assert.deepEqual(JSON.parse(refused.stdout), { status: 'ok', authenticated: false })
    assert.match(refused.stderr, /refused the API key/)
  })

  test("exec --json prints the job's final record as the server sends it and exits with the job's code", async () => {
    const run = await cli(['exec', '--json', '--', 'echo out; echo err >&2; exit 3'])
    assert.equal(run.code, 3, run.stderr)
    const job = JSON.parse(run.stdout)
    const record = (await (await fetch(`${server.url}/jobs/${job.jobId}`, { headers: { 'x-api-key': readKey(stateDir) } })).json())
    assert.deepEqual(job, record)
    assert.equal(job.stdout, 'out\n')
    assert.equal(job.stderr, 'err\n')
    assert.equal(job.exitCode, 3)
    const detached = await cli(['exec', '--json', '--detach', '--', 'true'])
    assert.equal(detached.code, 0, detached.stderr)
    assert.match(JSON.parse(detached.stdout).jobId, /^[0-9a-f]+$/)
  })

  test('a timed-out exec --json still prints the record, with the timeout line on stderr', async () => {
    const run = await cli(['exec', '--json', '--timeout', '1', '--', 'sleep 30'])
    assert.notEqual(run.code, 0)
    assert.equal(JSON.parse(run.stdout).status, 'timeout')
    assert.match(run.stderr, /timed out after 1 s/)
  })

  test('terminals lists the open terminals and terminals kill ends one', async () => {
    const none = await cli(['terminals'])
    assert.equal(none.code, 0, none.stderr)
    assert.equal(none.stdout, 'no open terminals\n')
    const socket = await TerminalClient.open(`${server.url.replace(/^http/, 'ws')}/terminal?shell=/bin/sh`, { 'x-api-key': readKey(stateDir) })
    try {
      const id = await socket.sessionId()
      const table = await cli(['terminals'])
      assert.match(table.stdout, /^ID\s+PID\s+CLIENTS\s+SIZE\s+CREATED\s+LAST INPUT\s+SHELL\s+WORKDIR\n/)
      assert.match(table.stdout, new RegExp(`^${id}\\s+\\d+\\s+1\\s+\\d+x\\d+\\s.*/bin/sh`, 'm'))
      const listed = JSON.parse((await cli(['terminals', '--json'])).stdout)
      assert.deepEqual(listed.map((t: { id: string }) => t.id), [id])
      const killed = await cli(['terminals', 'kill', id])
      assert.equal(killed.code, 0, killed.stderr)
      assert.equal(killed.stdout, `${id} ended\n`)
      assert.deepEqual(JSON.parse((await cli(['terminals', '--json'])).stdout), [])
      const again = await cli(['terminals', 'kill', id])
      assert.equal(again.code, 1)
      assert.equal(again.stderr, `agent-server: terminal ${id} not found (agent-server terminals lists the open ones)\n`)
    } finally {
      socket.socket.close()
    }
  })

  test('errors say where the URL and the key came from when they were not typed', async () => {
    const config = join(stateDir, 'credentials.json')
    writeFileSync(config, JSON.stringify({ current: 'stale', contexts: { stale: { url: server.url, key: 'old-key' } } }), { mode: 0o600 })
    const stale = await cli(['jobs'], { AGENT_RUNTIME_CONFIG: config })
    assert.equal(stale.code, 1)
    assert.equal(stale.stderr, `agent-server: the server at ${server.url} (from context 'stale') refused the API key from context 'stale' (pass --key or set AGENT_RUNTIME_API_KEY)\n`)
    const staleAttach = await cli(['attach'], { AGENT_RUNTIME_CONFIG: config })
    assert.equal(staleAttach.code, 1)
    assert.equal(staleAttach.stderr, stale.stderr)
    const fromEnv = await cli(['jobs'], { AGENT_RUNTIME_API_KEY: 'env-key' })
    assert.equal(fromEnv.stderr, `agent-server: the server at ${server.url} (from the server.json of ${stateDir}) refused the API key from AGENT_RUNTIME_API_KEY (pass --key or set AGENT_RUNTIME_API_KEY)\n`)
    const elsewhere = makeStateDir()
    try {
      const none = await runBuiltCli(['jobs', '--state-dir', elsewhere], { AGENT_RUNTIME_URL: server.url })
      assert.equal(none.code, 1)
      assert.equal(none.stderr, `agent-server: the server at ${server.url} (from AGENT_RUNTIME_URL) wants an API key and none was found (no --key, AGENT_RUNTIME_API_KEY, saved context or local key file)\n`)
      const noneAttach = await runBuiltCli(['attach', '--state-dir', elsewhere], { AGENT_RUNTIME_URL: server.url })
      assert.equal(noneAttach.code, 1)
      assert.equal(noneAttach.stderr, none.stderr)
      const closedUrl = `http://127.0.0.1:${await freePort()}`
      const unreachable = await runBuiltCli(['jobs', '--state-dir', elsewhere], { AGENT_RUNTIME_URL: closedUrl })
      assert.equal(unreachable.stderr, `agent-server: cannot reach ${closedUrl}: ECONNREFUSED (from AGENT_RUNTIME_URL)\n`)
      const unreachableAttach = await runBuiltCli(['attach', '--state-dir', elsewhere], { AGENT_RUNTIME_URL: closedUrl })
      assert.equal(unreachableAttach.code, 1)
      assert.equal(unreachableAttach.stderr, unreachable.stderr)
    } finally {
      rmSync(elsewhere, { recursive: true, force: true })
    }
  })

  test('a peer that closes every connection at once gets one clear line and exit 1, not a silent exit 13', async () => {
    const closer = createServer((socket) => socket.destroy())
    await new Promise<void>((resolve) => closer.listen({ host: '127.0.0.1', port: 0 }, resolve))
    try {
      const run = await runBuiltCli(['health', '--key', 'k', '--url', `http://127.0.0.1:${(closer.address() as { port: number }).port}`])
      assert.equal(run.code, 1)
      assert.equal(run.stderr, 'agent-server: the connection was closed without an answer (is the URL that of an agent-server?)\n')
    } finally {
      await new Promise((resolve) => closer.close(resolve))
    }
  })

  test('doctor colours its verdicts on a terminal, and never with NO_COLOR set (even empty) or through a pipe', async () => {
    const port = String(await freePort())
    const { NO_COLOR: _unset, ...withoutNoColor } = process.env
    const onTerminal = async (extra: NodeJS.ProcessEnv): Promise<string> => {
      const env: Record<string, string> = {}
      for (const [name, value] of Object.entries({ ...withoutNoColor, ...extra })) if (value !== undefined) env[name] = value
      const child = pty.spawn(process.execPath, [BUILT_CLI, 'doctor', '--port', port, '--state-dir', stateDir], { env, cols: 200, rows: 50 })
      let output = ''
      child.onData((data) => { output += data })
      await new Promise<void>((resolve) => child.onExit(() => resolve()))
      return output
    }
    const coloured = await onTerminal({})
    assert.ok(coloured.includes(`${ESC}32mok`), coloured)
    assert.ok(!(await onTerminal({ NO_COLOR: '' })).includes(ESC))
    assert.ok(!(await onTerminal({ NO_COLOR: '1' })).includes(ESC))
    const piped = await cli(['doctor', '--port', port])
    assert.ok(!piped.stdout.includes(ESC), piped.stdout)
  })
})

function readKey (stateDir: string): string {
  return readFileSync(`${stateDir}/api-key`, 'utf8').trim()
}
