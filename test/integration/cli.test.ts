import assert from 'node:assert/strict'
import { readFileSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { runCli, spawnServer } from '../helpers/cli-process.js'
import { makeStateDir } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version

describe('agent-server command line', () => {
  const dirs: string[] = []
  const fresh = (): string => { const dir = makeStateDir(); dirs.push(dir); return dir }
  after(() => { for (const dir of dirs) rmSync(dir, { recursive: true, force: true }) })

  test('--version prints the version and --help lists every server flag', async () => {
    const version = await runCli(['--version'])
    assert.equal(version.code, 0)
    assert.equal(version.stdout.trim(), VERSION)
    const help = await runCli(['--help'])
    assert.equal(help.code, 0)
    for (const flag of ['--port', '--host', '--state-dir', '--log-level', '--max-concurrent-jobs', '--max-pending-jobs',
      '--max-inline-output', '--kill-grace', '--job-retention', '--job-retention-days', '--cors-origin', '--tls-cert', '--tls-key']) {
      assert.ok(help.stdout.includes(flag), `help mentions ${flag}`)
    }
  })

  test('an unknown flag or a bad value exits 78 with one clear line', async () => {
    const cases: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
      [['--no-such-flag'], {}, /unknown option/],
      [['--port', 'abc'], {}, /--port must be an integer/],
      [['--port', '70000'], {}, /--port must be between 0 and 65535/],
      [['--log-level', 'loud'], {}, /--log-level must be one of/],
      [['--cors-origin', 'example.com'], {}, /--cors-origin must be an origin/],
      [['--tls-cert', '/nope.pem'], {}, /--tls-cert and --tls-key must be given together/],
      [[], { AGENT_RUNTIME_MAX_CONCURRENT_JOBS: 'many' }, /AGENT_RUNTIME_MAX_CONCURRENT_JOBS must be an integer/],
      [['stop', '--timeout', 'abc'], {}, /'--timeout <seconds>' argument 'abc' is invalid\. It must be a number of seconds/],
      [['stop', '--timeout', '-1'], {}, /'--timeout <seconds>' argument '-1' is invalid/],
      [['exec', '--timeout', 'soon', 'true'], {}, /'--timeout <seconds>' argument 'soon' is invalid/],
      [['jobs', '--limit', 'many'], {}, /'--limit <n>' argument 'many' is invalid\. It must be a whole number from 1 to 1000\./],
      [['jobs', '--limit', '0'], {}, /'--limit <n>' argument '0' is invalid\. It must be a whole number from 1 to 1000\./],
      [['exec', '--session', 's1', '-i', 'true'], {}, /exec --session takes no -i or -t/],
      [['exec', '--session', 's1', '-t', 'true'], {}, /exec --session takes no -i or -t/],
      [['exec', '--json', '-t', 'true'], {}, /exec --json takes no -t/],
      [['jobs', '--limit', '5000'], {}, /'--limit <n>' argument '5000' is invalid\. It must be a whole number from 1 to 1000\./],
    ]
    for (const [args, env, message] of cases) {
      const result = await runCli([...args, '--state-dir', fresh()], env)
      assert.equal(result.code, 78, `${args.join(' ')} ${JSON.stringify(env)}: ${result.stderr}`)
      assert.match(result.stderr, message)
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr)
    }
  })

  test('key show prints the same key every time and keeps it in a 0600 file', async () => {
    const dir = fresh()
    const first = await runCli(['key', 'show', '--state-dir', dir])
    const second = await runCli(['key', 'show'], { AGENT_RUNTIME_HOME: dir })
    assert.equal(first.code, 0)
    assert.match(first.stdout.trim(), /^[A-Za-z0-9_-]{43}$/)
    assert.equal(second.stdout, first.stdout)
    assert.equal(statSync(join(dir, 'api-key')).mode & 0o777, 0o600)
  })

  test('key rotate replaces the key and a running server accepts the new key at once', async () => {
    const dir = fresh()
    const server = await spawnServer(dir, [], { AGENT_RUNTIME_API_KEY: '' })
    try {
      const oldKey = (await runCli(['key', 'show', '--state-dir', dir])).stdout.trim()
      const get = async (key: string): Promise<number> => (await fetch(`${server.url}/jobs`, { headers: { 'x-api-key': key } })).status
      assert.equal(await get(oldKey), 200)
      const rotated = await runCli(['key', 'rotate', '--state-dir', dir])
      assert.equal(rotated.code, 0)
      const newKey = rotated.stdout.trim()
      assert.notEqual(newKey, oldKey)
      await waitFor(async () => (await get(newKey)) === 200, 'the server to use the new key')
      assert.equal(await get(oldKey), 401)
    } finally {
      await server.stop()
    }
  })

  test('the server prints where the key is and a first curl command', async () => {
    const dir = fresh()
    const server = await spawnServer(dir, [], { AGENT_RUNTIME_API_KEY: '' })
    try {
      assert.match(server.output(), new RegExp(`API key: in ${join(dir, 'api-key')}`))
      assert.match(server.output(), /curl -s -X POST http:\/\/127\.0\.0\.1:\d+\/exec/)
    } finally {
      assert.equal(await server.stop(), 0)
    }
  })
})

describe('agent-server status and stop', () => {
  test('status reports a running server and its jobs; stop ends it gracefully; both say when nothing runs', async () => {
    const dir = makeStateDir()
    try {
      const none = await runCli(['status', '--state-dir', dir])
      assert.equal(none.code, 1)
      assert.match(none.stdout, /no server is running/)
      const server = await spawnServer(dir, [], { AGENT_RUNTIME_API_KEY: '' })
      const key = (await runCli(['key', 'show', '--state-dir', dir])).stdout.trim()
      await fetch(`${server.url}/exec`, { method: 'POST', headers: { 'x-api-key': key }, body: '{"command":"true"}' })
      const status = await runCli(['status', '--state-dir', dir])
      assert.equal(status.code, 0, status.stderr)
      assert.match(status.stdout, new RegExp(`agent-server ${VERSION} is running: pid ${server.child.pid}, ${server.url.replaceAll('.', '\\.')}, up \\d+s`))
      assert.match(status.stdout, /jobs: 1 \(running \d, pending \d\)/)
      const stopped = await runCli(['stop', '--state-dir', dir, '--timeout', '30'])
      assert.equal(stopped.code, 0, stopped.stderr)
      assert.match(stopped.stdout, new RegExp(`stopped the server \\(pid ${server.child.pid}\\)`))
      assert.equal(await server.stop(), 0, 'the server exited 0')
      assert.match((await runCli(['stop', '--state-dir', dir])).stdout, /no server is running/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
