import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { BUILT_CLI, runBuiltCli } from '../helpers/built-cli.js'

const has = (program: string): boolean => {
  try {
    execFileSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

// `agent-server service install|uninstall`: the unit a supervisor runs, and that it is one systemd accepts.
describe('agent-server service', () => {
  let root: string
  let env: NodeJS.ProcessEnv
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'agent-runtime-service-'))
    env = { XDG_CONFIG_HOME: join(root, 'config'), HOME: root }
  })
  after(() => rmSync(root, { recursive: true, force: true }))

  test('install --dry-run prints a systemd unit running the wrapper with the flags, KillMode=process and Restart=on-failure', async () => {
    const run = await runBuiltCli(['service', 'install', '--user', '--dry-run', '--port', '9123', '--host', '0.0.0.0', '--state-dir', join(root, 'state dir'), '--', '--tunnel', 'cloudflared'], env)
    assert.equal(run.code, 0, run.stderr)
    assert.equal(run.stderr, `# would write ${join(root, 'config/systemd/user/agent-runtime.service')}\n`)
    const unit = run.stdout
    assert.ok(unit.includes(`\nExecStart=${process.execPath} ${BUILT_CLI} --wrapper --port 9123 --host 0.0.0.0 --state-dir "${join(root, 'state dir')}" --tunnel cloudflared\n`), unit)
    for (const line of ['KillMode=process', 'Restart=on-failure', 'WantedBy=default.target', `WorkingDirectory=${root}`]) assert.match(unit, new RegExp(`^${line}$`, 'm'))
    assert.doesNotMatch(unit, /^User=/m)
    assert.equal(existsSync(join(root, 'config')), false)
  })

  test('the generated units pass systemd-analyze verify', async (t) => {
    if (!has('systemd-analyze')) return t.skip('systemd-analyze is not installed here')
    for (const scope of [['--user'], []]) {
      const run = await runBuiltCli(['service', 'install', ...scope, '--dry-run', '--port', '9124', '--state-dir', join(root, 'state')], env)
      assert.equal(run.code, 0, run.stderr)
      const file = join(root, 'agent-runtime.service')
      writeFileSync(file, run.stdout)
      // Why a check of stderr too: verify exits 0 on some warnings it prints.
      const output = execFileSync('systemd-analyze', ['verify', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      assert.equal(output.trim(), '')
      if (scope.length === 0) assert.match(run.stdout, /^User=\S+$/m)
    }
  })

  test('install writes the unit, says how to start it, and uninstall removes it', async () => {
    const path = join(root, 'config/systemd/user/agent-runtime.service')
    const install = await runBuiltCli(['service', 'install', '--user', '--port', '9125', '--state-dir', join(root, 'state')], env)
    assert.equal(install.code, 0, install.stderr)
    assert.match(install.stdout, new RegExp(`^wrote ${path}\nstart it now and on every boot: systemctl --user daemon-reload && systemctl --user enable --now agent-runtime\n`))
    assert.equal(statSync(path).mode & 0o777, 0o644)
    assert.match(readFileSync(path, 'utf8'), /--port 9125/)
    const again = await runBuiltCli(['service', 'install', '--user', '--port', '9125', '--state-dir', join(root, 'state')], env)
    assert.match(again.stdout, /is already up to date/)
    const uninstall = await runBuiltCli(['service', 'uninstall', '--user'], env)
    assert.equal(uninstall.code, 0, uninstall.stderr)
    assert.equal(uninstall.stdout, `removed ${path}\n`)
    assert.equal(existsSync(path), false)
    assert.equal((await runBuiltCli(['service', 'uninstall', '--user'], env)).stdout, `no service file at ${path}: nothing to remove\n`)
  })

  test('the launchd plist is a well-formed property list with the same choices', async (t) => {
    const run = await runBuiltCli(['service', 'install', '--user', '--dry-run', '--format', 'launchd', '--port', '9126', '--state-dir', join(root, 'a&b')], env)
    assert.equal(run.code, 0, run.stderr)
    assert.match(run.stderr, /Library\/LaunchAgents\/local\.agent-runtime\.plist/)
    if (!has('python3')) return t.skip('python3 (plistlib) is not installed here')
    const parsed = JSON.parse(execFileSync('python3', ['-c', 'import json, plistlib, sys; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))'], { input: run.stdout, encoding: 'utf8' }))
    assert.deepEqual(parsed.ProgramArguments, [process.execPath, BUILT_CLI, '--wrapper', '--port', '9126', '--host', '127.0.0.1', '--state-dir', join(root, 'a&b')])
    assert.equal(parsed.AbandonProcessGroup, true)
    assert.deepEqual(parsed.KeepAlive, { SuccessfulExit: false })
    assert.equal(parsed.Label, 'local.agent-runtime')
  })

  test('bad flags are one line and exit 78', async () => {
    const port = await runBuiltCli(['service', 'install', '--user', '--dry-run', '--port', '0'], env)
    assert.equal(port.code, 78)
    assert.equal(port.stderr, 'agent-server: a service needs a fixed --port: the wrapper checks the health of a new version on it\n')
    const format = await runBuiltCli(['service', 'install', '--dry-run', '--format', 'upstart'], env)
    assert.equal(format.code, 78)
    assert.match(format.stderr, /--format must be systemd or launchd/)
  })
})
