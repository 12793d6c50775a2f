import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import * as pty from 'node-pty'
import { CLI_PATH, spawnServer, type ServerProcess } from '../helpers/cli-process.js'
import { makeStateDir } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

// Saved contexts (`login`, `context use`): a client command with no flags reaches the saved server.
describe('agent-server login and contexts', () => {
  let dir: string
  let first: ServerProcess
  let second: ServerProcess
  let config: string
  // No URL, key or state dir of a server in the environment: only the saved contexts can lead there.
  const cli = async (args: string[], input = ''): Promise<{ code: number | null, stdout: string, stderr: string }> => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI_PATH, ...args], {
      env: { ...process.env, AGENT_RUNTIME_CONFIG: config, AGENT_RUNTIME_URL: '', AGENT_RUNTIME_API_KEY: '', AGENT_RUNTIME_HOME: join(dir, 'no-server') },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    child.stdin.end(input)
    const [code] = await once(child, 'exit') as [number | null]
    return { code, stdout, stderr }
  }

  before(async () => {
    dir = makeStateDir()
    config = join(dir, 'config', 'credentials.json')
    first = await spawnServer(join(dir, 'first'), ['--log-level', 'warn'])
    second = await spawnServer(join(dir, 'second'), ['--log-level', 'warn'])
  })
  after(async () => {
    await Promise.all([first.stop(), second.stop()])
    rmSync(dir, { recursive: true, force: true })
  })

  test('login checks the key, saves it 0600, and client commands then reach that server; context use switches', async () => {
    const refused = await cli(['login', '--url', first.url, '--name', 'one', '--key-stdin'], 'wrong\n')
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, /refused the API key: nothing saved/)

    assert.equal((await cli(['login', '--url', first.url, '--name', 'one', '--key-stdin'], first.key + '\n')).code, 0)
    assert.equal(statSync(config).mode & 0o777, 0o600)
    const onFirst = await cli(['exec', '--', 'echo from-first'])
    assert.equal(onFirst.code, 0, onFirst.stderr)
    assert.equal(onFirst.stdout, 'from-first\n')

    assert.equal((await cli(['login', '--url', second.url, '--name', 'two', '--key-stdin'], second.key)).code, 0)
    const health = await cli(['health'])
    assert.equal(health.code, 0, health.stderr)
    const list = await cli(['context', 'ls'])
    assert.match(list.stdout, /^ {2}one\t.*\n\* two\t/m)

    assert.equal((await cli(['context', 'use', 'one'])).code, 0)
    const jobs = await cli(['jobs', '--json'])
    assert.equal(jobs.code, 0, jobs.stderr)
    assert.match(jobs.stdout, /echo from-first/)

    assert.equal((await cli(['logout'])).code, 0)
    assert.equal((await cli(['context', 'rm', 'two'])).code, 0)
    assert.equal((await cli(['context', 'ls'])).stdout, '')
    const unknown = await cli(['context', 'use', 'nope'])
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /no saved context nope/)
  })

  test('login on a terminal asks for the key without echoing it, and the saved context then works', async () => {
    const env: Record<string, string> = {}
    for (const [name, value] of Object.entries({ ...process.env, AGENT_RUNTIME_CONFIG: config, AGENT_RUNTIME_URL: '', AGENT_RUNTIME_API_KEY: '', AGENT_RUNTIME_HOME: join(dir, 'no-server') })) {
      if (value !== undefined) env[name] = value
    }
    const term = pty.spawn(process.execPath, ['--import', 'tsx', CLI_PATH, 'login', '--url', second.url, '--name', 'typed'], { cols: 200, rows: 30, env })
    let output = ''
    term.onData((data) => { output += data })
    const exited = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)))
    try {
      await waitFor(() => output.includes(`API key for ${second.url}: `), 'the key prompt', 20_000)
      term.write(`${second.key}\r`)
      assert.equal(await exited, 0, output)
    } finally {
      term.kill()
    }
    assert.ok(!output.includes(second.key), `the key was echoed: ${output}`)
    assert.match(output, /saved context typed \(/)

    const run = await cli(['exec', '--', 'echo after-typed-login'])
    assert.equal(run.code, 0, run.stderr)
    assert.equal(run.stdout, 'after-typed-login\n')
    assert.equal((await cli(['context', 'ls'])).stdout, `* typed\t${second.url}\n`)
    assert.equal((await cli(['logout'])).code, 0)
  })
})
