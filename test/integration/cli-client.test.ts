import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { CLI_PATH } from '../helpers/cli-process.js'
import { freePort } from '../helpers/net.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

interface Run { code: number | null, stdout: Buffer, stderr: string }

function runClient (server: TestServer, args: string[], env: NodeJS.ProcessEnv = {}): { done: Promise<Run>, child: ReturnType<typeof spawn> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI_PATH, ...args], {
    env: { ...process.env, AGENT_RUNTIME_URL: server.url, AGENT_RUNTIME_API_KEY: server.key, AGENT_RUNTIME_HOME: server.stateDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const out: Buffer[] = []
  let stderr = ''
  child.stdout?.on('data', (d: Buffer) => out.push(d))
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
  const done = once(child, 'exit').then(([code]) => ({ code: code as number | null, stdout: Buffer.concat(out), stderr }))
  return { done, child }
}

const cli = async (server: TestServer, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> => runClient(server, args, env).done

describe('agent-server client commands', () => {
  let server: TestServer
  before(async () => { server = await startServer() })
  after(async () => server.close())

  test('exec mirrors stdout bytes exactly, stderr, and the exit code', async () => {
    const bytes = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(300_000)])
    const file = join(server.stateDir, 'payload.bin')
    writeFileSync(file, bytes)
    const ok = await cli(server, ['exec', '--', 'cat', file])
    assert.equal(ok.code, 0, ok.stderr)
    assert.ok(ok.stdout.equals(bytes), 'stdout bytes are identical')
    const failing = await cli(server, ['exec', '--', 'echo to-out; echo to-err >&2; exit 42'])
    assert.equal(failing.code, 42)
    assert.equal(failing.stdout.toString(), 'to-out\n')
    assert.match(failing.stderr, /to-err/)
    const signalled = await cli(server, ['exec', '--', 'kill -TERM $$'])
    assert.equal(signalled.code, 143)
  })

  test('exec passes --workdir, --env and several words quoted', async () => {
    const run = await cli(server, ['exec', '--workdir', server.stateDir, '--env', 'GREETING=hi there', '--', 'printf', '%s|%s|%s\\n', '$GREETING', 'a b', '$(pwd)'])
    assert.equal(run.code, 0, run.stderr)
    assert.equal(run.stdout.toString(), '$GREETING|a b|$(pwd)\n')
    const shell = await cli(server, ['exec', '--workdir', server.stateDir, '--env', 'GREETING=hi there', '--', 'echo "$GREETING" "$(pwd)"'])
    assert.equal(shell.stdout.toString(), `hi there ${server.stateDir}\n`)
  })

  test('exec --detach prints the job id; logs, logs -f, jobs and kill work on it', async () => {
    const detached = await cli(server, ['exec', '--detach', '--', 'echo hello; echo oops >&2; sleep 0.3; echo bye'])
    assert.equal(detached.code, 0)
    const id = detached.stdout.toString().trim()
    assert.match(id, /^[0-9a-f]{12}$/)
    const followed = await cli(server, ['logs', '-f', id])
    assert.equal(followed.stdout.toString(), 'hello\nbye\n')
    assert.match(followed.stderr, /oops/)
    const logs = await cli(server, ['logs', id])
    assert.equal(logs.stdout.toString(), 'hello\nbye\n')
    const table = await cli(server, ['jobs', '--limit', '3'])
    assert.match(table.stdout.toString(), /^JOB\s+STATUS\s+EXIT/)
    assert.match(table.stdout.toString(), new RegExp(`${id}\\s+completed\\s+0`))
    const json = JSON.parse((await cli(server, ['jobs', '--json', '--status', 'completed'])).stdout.toString())
    assert.ok(json.some((j: { jobId: string }) => j.jobId === id))
    const sleeper = (await cli(server, ['exec', '--detach', '--', 'sleep 30'])).stdout.toString().trim()
    const killed = await cli(server, ['kill', sleeper])
    assert.equal(killed.code, 0)
    assert.match(killed.stdout.toString(), /SIGTERM sent/)
    assert.equal((await server.finished(sleeper)).status, 'cancelled')
  })

  test('Ctrl-C without a terminal detaches, prints the job id and leaves the job running', async () => {
    const { child, done } = runClient(server, ['exec', '--', 'echo started; sleep 30'])
    let printed = ''
    child.stdout?.on('data', (d: Buffer) => { printed += d.toString() })
    await waitFor(() => printed === 'started\n', 'the command to print through the CLI')
    const jobs = (await server.api('GET', '/jobs?status=running')).body as any[]
    const jobId = jobs.find((j) => j.command === 'echo started; sleep 30')?.jobId as string
    child.kill('SIGINT')
    const run = await done
    assert.equal(run.code, 130)
    assert.match(run.stderr, new RegExp(`detached: job ${jobId} keeps running`))
    assert.equal((await server.api('GET', `/jobs/${jobId}`)).body.status, 'running')
    await server.api('POST', `/jobs/${jobId}/kill`)
    await server.finished(jobId)
  })

  test('health prints the server health', async () => {
    const run = await cli(server, ['health', '--json'])
    assert.equal(run.code, 0)
    assert.equal(JSON.parse(run.stdout.toString()).authenticated, true)
  })

  test('a wrong key, an unreachable server and an unknown job each give one clear line and exit 1, for attach as for the HTTP commands', async () => {
    const wrongKey = await cli(server, ['jobs', '--key', 'nope'])
    assert.equal(wrongKey.code, 1)
    assert.match(wrongKey.stderr, /^agent-server: the server at http:\/\/127\.0\.0\.1:\d+ \(from AGENT_RUNTIME_URL\) refused the API key \(pass --key/)
    const closedPort = await freePort()
    const unreachable = await cli(server, ['health', '--url', `http://127.0.0.1:${closedPort}`])
    assert.equal(unreachable.code, 1)
    assert.equal(unreachable.stderr, `agent-server: cannot reach http://127.0.0.1:${closedPort}: ECONNREFUSED\n`)
    const unreachableAttach = await cli(server, ['attach', '--url', `http://127.0.0.1:${closedPort}`])
    assert.equal(unreachableAttach.code, 1)
    assert.equal(unreachableAttach.stderr, unreachable.stderr)
    const wrongKeyAttach = await cli(server, ['attach', '--key', 'nope'])
    assert.equal(wrongKeyAttach.code, 1)
    assert.equal(wrongKeyAttach.stderr, wrongKey.stderr)
    const unknown = await cli(server, ['logs', '000000000000'])
    assert.equal(unknown.code, 1)
    assert.equal(unknown.stderr, 'agent-server: job 000000000000 not found\n')
  })

  test('without --key or AGENT_RUNTIME_API_KEY, a local server is reached with the local key file', async () => {
    const keyed = await startServer({}, { AGENT_RUNTIME_API_KEY: '' })
    try {
      const run = await runClient(keyed, ['health', '--json'], { AGENT_RUNTIME_API_KEY: '', AGENT_RUNTIME_HOME: keyed.stateDir }).done
      assert.equal(run.code, 0, run.stderr)
      assert.equal(JSON.parse(run.stdout.toString()).authenticated, true)
    } finally {
      await keyed.close()
    }
  })
})
