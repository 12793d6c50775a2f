import assert from 'node:assert/strict'
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { spawnServer } from '../helpers/cli-process.js'
import { runBuiltCli } from '../helpers/built-cli.js'
import { freePort } from '../helpers/net.js'
import { waitFor } from '../helpers/wait.js'

type Check = { name: string, status: 'ok' | 'warn' | 'fail', detail: string, fix?: string }

const doctor = async (args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null, stdout: string, report: { ok: boolean, checks: Check[] } }> => {
  const run = await runBuiltCli(['doctor', '--json', ...args], env)
  if (!run.stdout.startsWith('{')) assert.fail(`doctor printed no JSON (exit ${run.code}): ${run.stderr}`)
  return { code: run.code, stdout: run.stdout, report: JSON.parse(run.stdout) }
}
const find = (checks: Check[], name: string): Check => checks.find((check) => check.name.startsWith(name)) ?? assert.fail(`no ${name} line in ${JSON.stringify(checks)}`)

// `agent-server doctor` on a machine ready to run the server, and on one with each usual mistake.
describe('agent-server doctor', () => {
  let root: string
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'agent-runtime-doctor-'))
    chmodSync(root, 0o755) // another user runs the doctor below
  })
  after(() => rmSync(root, { recursive: true, force: true }))

  test('a healthy setup passes every check and exits 0', async () => {
    const stateDir = join(root, 'healthy')
    assert.equal((await runBuiltCli(['key', 'rotate', '--state-dir', stateDir])).code, 0)
    const { code, report } = await doctor(['--state-dir', stateDir, '--port', String(await freePort())])
    assert.equal(code, 0, JSON.stringify(report, null, 2))
    assert.equal(report.ok, true)
    assert.deepEqual(report.checks.filter((check) => check.status === 'fail'), [])
    for (const name of ['node', 'settings', 'better-sqlite3', 'node-pty', 'launcher', 'state dir', 'key file', 'port', 'shells', 'devtunnel', 'cloudflared', 'chromium', 'clock', 'updates']) {
      assert.notEqual(find(report.checks, name).status, 'fail')
    }
    assert.match(find(report.checks, 'key file').detail, /mode 600/)
    const text = await runBuiltCli(['doctor', '--state-dir', stateDir, '--port', String(await freePort())])
    assert.match(text.stdout, /^ok {4}node {2,}Node \d+\.\d+\.\d+ \(needs >=\d+\.\d+\)$/m)
  })

  test('the port taken by the agent-server of this state directory is ok and says so', async () => {
    const stateDir = join(root, 'running')
    const port = await freePort()
    const server = await spawnServer(stateDir, ['--port', String(port)])
    try {
      await waitFor(() => server.output().includes('Web terminal:'), 'the banner', 10_000)
      const { report } = await doctor(['--state-dir', stateDir, '--port', String(port)])
      const line = find(report.checks, 'port')
      assert.equal(line.status, 'ok')
      assert.match(line.detail, new RegExp(`taken by this state dir's agent-server \\S+ \\(pid ${server.child.pid}, http://127\\.0\\.0\\.1:${port}\\)`))
    } finally {
      await server.stop()
    }
  })

  test('a broken setup fails each check with its fix and exits 1', async () => {
    const stateDir = join(root, 'broken')
    assert.equal((await runBuiltCli(['key', 'rotate', '--state-dir', stateDir])).code, 0)
    chmodSync(join(stateDir, 'api-key'), 0o644)
    const emptyPath = join(root, 'no-shells')
    mkdirSync(emptyPath)
    const other: Server = createServer((socket) => socket.destroy())
    await new Promise<void>((resolve) => other.listen({ host: '127.0.0.1', port: 0 }, resolve))
    const port = (other.address() as { port: number }).port
    try {
      const { code, report, stdout } = await doctor(['--state-dir', stateDir, '--port', String(port)], { PATH: emptyPath, AGENT_RUNTIME_TUNNEL: 'cloudflared' })
      assert.equal(code, 1, stdout)
      assert.equal(report.ok, false)
      const key = find(report.checks, 'key file')
      assert.equal(key.status, 'fail')
      assert.match(key.detail, /mode 644: other users may have read the key/)
      assert.equal(key.fix, `chmod 600 ${join(stateDir, 'api-key')}, then agent-server key rotate --state-dir ${stateDir}`)
      const portLine = find(report.checks, 'port')
      assert.equal(portLine.status, 'fail')
      assert.match(portLine.detail, /taken by another program/)
      const shells = find(report.checks, 'shells')
      assert.equal(shells.status, 'fail')
      assert.match(shells.detail, /no bash, zsh or sh on PATH/)
      assert.equal(find(report.checks, 'cloudflared').status, 'fail')
    } finally {
      await new Promise((resolve) => other.close(resolve))
    }
  })

  test('a state directory of another user, or one that cannot be created, fails with the fix', async () => {
    const foreign = join(root, 'foreign')
    mkdirSync(foreign, { mode: 0o700 })
    chownSync(foreign, 12345, 12345)
    const owned = find((await doctor(['--state-dir', foreign, '--port', '0'])).report.checks, 'state dir')
    assert.equal(owned.status, 'fail')
    assert.match(owned.detail, /belongs to uid 12345, not to this user/)
    assert.match(owned.fix ?? '', /chown/)
    const lockedParent = join(root, 'locked')
    mkdirSync(lockedParent, { mode: 0o500 })
    chownSync(lockedParent, 12345, 12345)
    const result = await runBuiltCli(['doctor', '--json', '--state-dir', join(lockedParent, 'state'), '--port', '0'], {}, { uid: 12345, gid: 12345 })
    const line = find(JSON.parse(result.stdout).checks, 'state dir')
    assert.equal(line.status, 'fail')
    assert.match(line.detail, /does not exist and .*locked is not writable/)
  })
})
