import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { checkForUpdate } from '../../src/update/available-version.js'
import { fillVersion } from '../../src/update/commands.js'
import { detectInstallation, updateCommandsFor } from '../../src/update/install-source.js'
import { BUILT_CLI, runBuiltCli } from '../helpers/built-cli.js'
import { freePort } from '../helpers/net.js'
import { makeStateDir } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

const GIT_ENV = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com', GIT_CONFIG_NOSYSTEM: '1' }
// npm ci of a package without dependencies needs no network; no audit, fund or update notice either.
const NPM_ENV = { npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', npm_config_offline: 'true' }

const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...GIT_ENV } }).trim()
const sh = (command: string): void => { execFileSync('/bin/sh', ['-c', command], { stdio: 'pipe', env: { ...process.env, ...GIT_ENV, ...NPM_ENV } }) }

function writeVersion (dir: string, version: string): void {
  writeFileSync(join(dir, 'package.json'), JSON.stringify({
    name: 'agent-runtime',
    version,
    scripts: { build: "node -e \"require('fs').writeFileSync('built', require('./package.json').version)\"" },
  }, null, 2))
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name: 'agent-runtime', version, lockfileVersion: 3, requires: true, packages: { '': { name: 'agent-runtime', version } } }, null, 2))
}

// Where an update comes from: a git checkout's tags, npm's registry, or a new container image.
describe('the update source matches how this copy was installed', () => {
  let root: string
  let upstream: string
  let clone: string

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'agent-runtime-update-'))
    upstream = join(root, 'upstream')
    mkdirSync(upstream)
    git(upstream, 'init', '--quiet', '--initial-branch', 'main')
    for (const version of ['0.9.0', '0.10.0', '0.11.0-dev']) {
      writeVersion(upstream, version)
      git(upstream, 'add', '.')
      git(upstream, 'commit', '--quiet', '-m', version)
      if (!version.endsWith('-dev')) git(upstream, 'tag', `v${version}`)
    }
    git(upstream, 'tag', 'not-a-version')
    clone = join(root, 'clone')
    git(root, 'clone', '--quiet', upstream, clone)
    git(clone, '-c', 'advice.detachedHead=false', 'checkout', '--quiet', 'v0.9.0')
  })
  after(() => rmSync(root, { recursive: true, force: true }))

  test('a git checkout is detected, and --check finds the newest version tag on origin (v0.10.0 after v0.9.0)', async () => {
    const install = detectInstallation(clone, {}, [])
    assert.deepEqual(install, { kind: 'git', root: clone, name: 'agent-runtime', version: '0.9.0' })
    const check = await checkForUpdate(install)
    assert.equal(check.installed, '0.9.0 (v0.9.0)')
    assert.equal(check.available, 'v0.10.0')
    assert.equal(check.updateAvailable, true)
    assert.equal(check.message, 'an update is available: the newest tag on origin is v0.10.0')
  })

  test('the git update command checks out the newest tag and builds it; the rollback goes back to the recorded version', async () => {
    const install = detectInstallation(clone, {}, [])
    const commands = updateCommandsFor(install)
    // A fix released after the check above, on a branch: the update takes the newest tag at its time.
    git(upstream, 'checkout', '--quiet', '-b', 'fix', 'v0.10.0')
    writeVersion(upstream, '0.10.1')
    git(upstream, 'commit', '--quiet', '-am', '0.10.1')
    git(upstream, 'tag', 'v0.10.1')
    git(upstream, 'checkout', '--quiet', 'main')
    sh(commands.update)
    assert.equal(git(clone, 'describe', '--tags'), 'v0.10.1')
    assert.equal(readFileSync(join(clone, 'built'), 'utf8'), '0.10.1')
    assert.equal((await checkForUpdate(detectInstallation(clone, {}, []))).message, 'up to date')
    sh(fillVersion(commands.rollback, '0.9.0'))
    assert.equal(git(clone, 'describe', '--tags'), 'v0.9.0')
    assert.equal(readFileSync(join(clone, 'built'), 'utf8'), '0.9.0')
  })

  test('--update-ref checks out that ref instead (origin/main here)', async () => {
    const install = detectInstallation(clone, {}, [])
    const check = await checkForUpdate(install, 'refs/heads/main')
    assert.equal(check.updateAvailable, true)
    sh(updateCommandsFor(install, 'origin/main').update)
    assert.equal(readFileSync(join(clone, 'built'), 'utf8'), '0.11.0-dev')
    assert.throws(() => updateCommandsFor(install, 'main; rm -rf /'), /--update-ref must be a tag, branch or commit name/)
  })

  test('a git remote that cannot be reached is said in one line, with the available version unknown', async () => {
    const offline = join(root, 'offline')
    git(root, 'clone', '--quiet', upstream, offline)
    git(offline, 'remote', 'set-url', 'origin', join(root, 'gone'))
    const check = await checkForUpdate(detectInstallation(offline, {}, []))
    assert.equal(check.available, null)
    assert.match(check.message, /^cannot ask the git remote origin \(.*gone.*\)$/)
  })

  test("an npm install uses the package's real name, and asks the registry for its version", async () => {
    const installed = join(root, 'prefix/lib/node_modules/@acme/agent-runtime-fork')
    mkdirSync(installed, { recursive: true })
    writeFileSync(join(installed, 'package.json'), JSON.stringify({ name: '@acme/agent-runtime-fork', version: '1.0.0' }))
    const install = detectInstallation(installed, {}, [])
    assert.equal(install.kind, 'npm')
    assert.deepEqual(updateCommandsFor(install), {
      update: 'npm install -g @acme/agent-runtime-fork@latest',
      rollback: 'npm install -g @acme/agent-runtime-fork@{version}',
      source: 'npm global install of @acme/agent-runtime-fork: npm install -g @acme/agent-runtime-fork@latest',
    })
    // A stand-in npm on PATH: the registry's two answers, a version and E404.
    const bin = join(root, 'fake-npm')
    mkdirSync(bin)
    const npm = join(bin, 'npm')
    writeFileSync(npm, '#!/bin/sh\necho 1.2.0\n')
    chmodSync(npm, 0o755)
    const newer = await checkForUpdate(install, null, { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` })
    assert.deepEqual([newer.available, newer.updateAvailable, newer.message], ['1.2.0', true, 'an update is available: @acme/agent-runtime-fork@1.2.0'])
    writeFileSync(npm, '#!/bin/sh\necho "npm error code E404" >&2\necho "npm error 404 Not Found - GET https://registry.npmjs.org/@acme%2fagent-runtime-fork" >&2\nexit 1\n')
    const missing = await checkForUpdate(install, null, { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` })
    assert.deepEqual([missing.available, missing.message], [null, 'the npm registry has no package @acme/agent-runtime-fork'])
  })

  test('a container says updates come from a new image; an unknown copy asks for --update-command', async () => {
    const plain = join(root, 'plain')
    mkdirSync(plain)
    writeFileSync(join(plain, 'package.json'), JSON.stringify({ name: 'agent-runtime', version: '0.1.0' }))
    const marker = join(root, 'dockerenv')
    writeFileSync(marker, '')
    for (const install of [detectInstallation(plain, { AGENT_RUNTIME_CONTAINER: '1' }, []), detectInstallation(plain, {}, [marker])]) {
      assert.equal(install.kind, 'container')
      assert.match((await checkForUpdate(install)).message, /^runs in a container: updates come from a new image/)
      assert.throws(() => sh(updateCommandsFor(install).update), /update it by pulling or building a new image/)
    }
    const unknown = detectInstallation(plain, {}, [])
    assert.equal(unknown.kind, 'unknown')
    assert.match(updateCommandsFor(unknown).source, /pass --update-command/)
  })

  test('update --check prints the installed and available version of this checkout; update without --check is a one-line mistake', async () => {
    const run = await runBuiltCli(['update', '--check', '--json'], { AGENT_RUNTIME_UPDATE_COMMAND: 'echo mine' })
    const check = JSON.parse(run.stdout)
    assert.equal(check.kind, 'git')
    assert.match(check.installed, /^\d+\.\d+\.\d+/)
    assert.equal(check.updateCommand, 'echo mine')
    assert.equal(check.explicitCommand, true)
    const text = await runBuiltCli(['update', '--check'])
    assert.match(text.stdout, /^installed: agent-runtime \S+ \(.*\) \(git, .*\)\navailable: .*\n.*\nupdate command: cd .* && git fetch --tags --force --quiet origin && /)
    const badRef = await runBuiltCli(['update', '--check', '--update-ref', 'main;reboot'])
    assert.equal(badRef.code, 78)
    assert.match(badRef.stderr, /^agent-server: --update-ref must be a tag, commit or branch name/)
    const bare = await runBuiltCli(['update'])
    assert.equal(bare.code, 78)
    assert.match(bare.stderr, /^agent-server: agent-server update needs --check/)
  })

  test('the wrapper logs where its updates come from, and an explicit --update-command wins', async () => {
    for (const extra of [[], ['--update-command', 'echo mine']]) {
      const stateDir = makeStateDir()
      const child = spawn(process.execPath, [BUILT_CLI, '--wrapper', '--port', String(await freePort()), '--state-dir', stateDir, ...extra], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AGENT_RUNTIME_API_KEY: 'k' } })
      let output = ''
      child.stdout.on('data', (d: Buffer) => { output += d.toString() })
      child.stderr.on('data', (d: Buffer) => { output += d.toString() })
      try {
        const line = await waitFor(() => output.split('\n').find((l) => l.includes('"event":"update-source"')), 'the update-source log line', 20_000)
        const entry = JSON.parse(line)
        assert.equal(entry.kind, 'git')
        if (extra.length === 0) {
          assert.equal(entry.explicit, false)
          assert.match(entry.command, /git fetch --tags --force --quiet origin/)
        } else {
          assert.deepEqual([entry.explicit, entry.command], [true, 'echo mine'])
        }
        await waitFor(() => output.includes('listening on'), 'the server to listen', 30_000)
      } finally {
        child.kill('SIGTERM')
        await once(child, 'exit')
        rmSync(stateDir, { recursive: true, force: true })
      }
    }
  })
})
