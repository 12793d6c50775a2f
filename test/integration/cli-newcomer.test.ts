import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import { CLI_PATH, runCli, spawnServer, type ServerProcess } from '../helpers/cli-process.js'
import { makeStateDir } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

// The first ten minutes of a new user: the banner's curl, client commands without flags, piped
// stdin, and every mistake answered in one line.
describe('agent-server for a new user', () => {
  let stateDir: string
  let server: ServerProcess
  // Client commands as a user types them: no --url, no key in the environment, the state dir of the server.
  const client = async (args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> =>
    runCli(args, { AGENT_RUNTIME_HOME: stateDir, AGENT_RUNTIME_URL: '' })

  before(async () => {
    stateDir = makeStateDir()
    server = await spawnServer(stateDir, [], { AGENT_RUNTIME_API_KEY: '' })
    await waitFor(() => server.output().includes('Web terminal:'), 'the banner', 10_000)
  })
  after(async () => {
    await server.stop()
    rmSync(stateDir, { recursive: true, force: true })
  })

  test("the banner's first curl works as printed and reads the key of the --state-dir in use", async () => {
    const banner = server.output()
    assert.ok(banner.includes(join(stateDir, 'api-key')), banner)
    assert.ok(banner.includes(`npx agent-server key show --state-dir '${stateDir}'`), banner)
    const curl = /^\s*(curl -s -X POST .*)$/m.exec(banner)?.[1]
    assert.ok(curl, banner)
    const { stdout } = await promisify(execFile)('bash', ['-c', curl], { env: { ...process.env, AGENT_RUNTIME_API_KEY: '' } })
    assert.match(stdout, /"jobId":"[0-9a-f]+"/)
  })

  test('client commands without --url find the server running on the state directory', async () => {
    const jobs = await client(['jobs'])
    assert.equal(jobs.code, 0, jobs.stderr)
    const health = await client(['health', '--json'])
    assert.equal(health.code, 0, health.stderr)
    assert.match(health.stdout, /"authenticated": true/)
  })

  test("exec forwards piped stdin to the job and closes the job's stdin at EOF", async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI_PATH, 'exec', '--', 'cat'], {
      env: { ...process.env, AGENT_RUNTIME_HOME: stateDir, AGENT_RUNTIME_URL: '', AGENT_RUNTIME_API_KEY: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    child.stdin.end('hello, ünïcode\nsecond line\n')
    const [code] = await once(child, 'exit') as [number | null]
    assert.equal(code, 0, stderr)
    assert.equal(stdout, 'hello, ünïcode\nsecond line\n')
  })

  test('a job that reads stdin ends when the local stdin is empty', async () => {
    const result = await client(['exec', '--', 'read line'])
    assert.equal(result.code, 1, result.stderr)
    assert.equal(result.stdout, '')
  })

  test('a timed-out exec says so on stderr', async () => {
    const result = await client(['exec', '--timeout', '1', '--', 'sleep 60'])
    assert.notEqual(result.code, 0)
    assert.match(result.stderr, /job [0-9a-f]+ timed out after 1 s/)
  })

  test('kill --signal takes INT for SIGINT', async () => {
    const started = await client(['exec', '--detach', '--', 'sleep 60'])
    assert.equal(started.code, 0, started.stderr)
    const jobId = started.stdout.trim()
    await waitFor(async () => (await client(['jobs', '--status', 'running'])).stdout.includes(jobId), 'the job to run', 20_000)
    const killed = await client(['kill', '--signal', 'INT', jobId])
    assert.equal(killed.code, 0, killed.stderr)
    assert.match(killed.stdout, /SIGINT sent/)
  })

  test('health with a wrong key says the key was refused and exits 1', async () => {
    const result = await client(['health', '--key', 'wrong'])
    assert.equal(result.code, 1)
    assert.match(result.stderr, /refused the API key/)
  })

  test('every CLI mistake is one clear line and exit 78', async () => {
    const missing = join(stateDir, 'no-such-dir')
    const cases: Array<[string[], RegExp]> = [
      [['bogus'], /^error: unknown command 'bogus'; see agent-server --help$/],
      [['jbos'], /unknown command 'jbos' \(did you mean 'jobs'\?\)/],
      [['exec', 'ls', '-la'], /unknown option '-la' \(put the command after --, e\.g\. agent-server exec -- ls -la\)/],
      [['kill', '--signal', 'LOUD', 'abc'], /'--signal <name>' argument 'LOUD' is invalid\. It must be a signal name such as SIGTERM/],
      [['key', 'show', '--state-dir', missing], /no state directory .*no-such-dir \(a typo\?/],
    ]
    for (const [args, message] of cases) {
      const result = await client(args)
      assert.equal(result.code, 78, `${args.join(' ')}: ${result.stderr}`)
      assert.match(result.stderr.trim(), message)
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr)
    }
    assert.equal(existsSync(missing), false)
  })
})
