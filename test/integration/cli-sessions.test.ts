import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { after, describe, test } from 'node:test'
import { runCli, spawnServer, type ServerProcess } from '../helpers/cli-process.js'
import { killMatching, processAlive } from '../helpers/processes.js'
import { makeStateDir } from '../helpers/server.js'

describe('agent-server sessions, exec --session and stop --sessions', () => {
  const dirs: string[] = []
  const servers: ServerProcess[] = []
  after(async () => {
    for (const server of servers) await server.stop('SIGKILL')
    for (const dir of dirs) { killMatching(dir); rmSync(dir, { recursive: true, force: true }) }
  })
  const start = async (): Promise<{ dir: string, server: ServerProcess, cli: (args: string[]) => ReturnType<typeof runCli> }> => {
    const dir = makeStateDir()
    dirs.push(dir)
    const server = await spawnServer(dir, [], { AGENT_RUNTIME_API_KEY: '' })
    servers.push(server)
    return { dir, server, cli: async (args) => runCli(args, { AGENT_RUNTIME_URL: server.url, AGENT_RUNTIME_HOME: dir }) }
  }

  test('exec --session keeps state between runs and mirrors the exit code; sessions lists it; sessions rm ends it', async () => {
    const { cli } = await start()
    const first = await cli(['exec', '--session', 'dev', '--', 'export GREETING=hello; cd /tmp'])
    assert.equal(first.code, 0, first.stderr)
    const second = await cli(['exec', '--session', 'dev', '--', 'echo "$GREETING from $PWD"; (exit 4)'])
    assert.equal(second.stdout, 'hello from /tmp\n')
    assert.equal(second.code, 4)
    const table = await cli(['sessions'])
    assert.equal(table.code, 0, table.stderr)
    assert.match(table.stdout, /^SESSION +SHELL +STATUS +PID +JOB +QUEUED +USED +CWD\n/)
    assert.match(table.stdout, /\ndev +bash +idle +\d+ +- +0 +\S+ ago +\/tmp\n$/)
    const json = JSON.parse((await cli(['sessions', '--json'])).stdout) as Array<{ sessionKey: string, pid: number }>
    assert.deepEqual(json.map((s) => s.sessionKey), ['dev'])
    const removed = await cli(['sessions', 'rm', 'dev'])
    assert.equal(removed.code, 0, removed.stderr)
    assert.equal(removed.stdout, 'ended session dev\n')
    assert.equal(processAlive(json[0]?.pid as number), false)
    assert.equal((await cli(['sessions'])).stdout, 'no persistent shell sessions\n')
    const missing = await cli(['sessions', 'rm', 'dev'])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /session not found/)
  })

  test('stop leaves sessions running for the next server; stop --sessions ends them first', async () => {
    const { dir, server, cli } = await start()
    assert.equal((await cli(['exec', '--session', 'kept', '--', 'true'])).code, 0)
    const pid = (JSON.parse((await cli(['sessions', '--json'])).stdout) as Array<{ pid: number }>)[0]?.pid as number
    assert.equal((await runCli(['stop', '--state-dir', dir, '--timeout', '30'])).code, 0)
    assert.equal(await server.stop(), 0)
    assert.equal(processAlive(pid), true, 'the shell outlived the stop')
    const next = await spawnServer(dir, [], { AGENT_RUNTIME_API_KEY: '' })
    servers.push(next)
    const stopped = await runCli(['stop', '--sessions', '--state-dir', dir, '--timeout', '30'])
    assert.equal(stopped.code, 0, stopped.stderr)
    assert.match(stopped.stdout, /^ended 1 persistent shell session\nstopped the server/)
    assert.equal(processAlive(pid), false)
  })
})
