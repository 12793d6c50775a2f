import assert from 'node:assert/strict'
import { afterEach, describe, test } from 'node:test'
import { fillVersion, isSafeVersion, readVersion, runShellCommand } from '../../../src/update/commands.js'
import { killMatching, processesMatching } from '../../helpers/processes.js'
import { waitFor } from '../../helpers/wait.js'
import { captureLog, sleepMarker } from './log-capture.js'

const markers: string[] = []
const marker = (): string => { const m = sleepMarker(); markers.push(m); return m }
afterEach(() => {
  for (const m of markers.splice(0)) killMatching(`sleep ${m}`)
})

describe('rollback command helpers', () => {
  test('every {version} in the rollback command is replaced', () => {
    assert.equal(fillVersion('npm install -g agent-runtime@{version}', '1.2.3'), 'npm install -g agent-runtime@1.2.3')
    assert.equal(fillVersion('echo {version} && install {version}', '0.1.0'), 'echo 0.1.0 && install 0.1.0')
    assert.equal(fillVersion('reinstall-last', '0.1.0'), 'reinstall-last')
  })

  test('semver versions are safe to put into a shell command', () => {
    for (const version of ['0.1.0', '1.2.3-rc.1', '2.0.0+build.5', '1.0.0-beta_2']) assert.ok(isSafeVersion(version), version)
  })

  test('anything with shell syntax, spaces or nothing at all is not a usable version', () => {
    for (const version of ['', '1.0.0; rm -rf /', '$(id)', '1.0.0 2.0.0', '`x`', '-1.0.0', 'a'.repeat(101), '1.0\n2.0']) {
      assert.equal(isSafeVersion(version), false, JSON.stringify(version))
    }
  })
})

describe('runShellCommand', () => {
  test('logs every line of stdout and stderr, a last line without newline and \\r redraws included, and returns the exit code', async () => {
    const { log, lines } = captureLog()
    const script = 'echo one; echo two >&2; printf \'step 1\\rstep 2\\n\'; printf \'%02100d\\n\' 0; printf \'last\'; exit 3'
    const exit = await runShellCommand(script, 'update-output', log, new AbortController().signal, 5000)
    assert.deepEqual(exit, { code: 3, signal: null })
    const logged = lines.filter((line) => line.event === 'update-output').map((line) => [line.stream, line.line])
    assert.deepEqual(logged.sort(), [
      ['stderr', 'two'], ['stdout', '0'.repeat(2000)], ['stdout', 'last'], ['stdout', 'one'], ['stdout', 'step 1'], ['stdout', 'step 2'],
    ])
  })

  test('a background process that keeps the output open does not hold the command up, and is left running', async () => {
    const { log } = captureLog()
    const m = marker()
    const exit = await runShellCommand(`echo started; sleep ${m} & exit 0`, 'update-output', log, new AbortController().signal, 5000)
    assert.deepEqual(exit, { code: 0, signal: null })
    assert.equal(processesMatching(`sleep ${m}`).length, 1)
  })

  test('after a stop, a command that does not finish within the grace is killed with its whole group', async () => {
    const { log, lines } = captureLog()
    const m = marker()
    const stop = new AbortController()
    const running = runShellCommand(`trap '' TERM; sleep ${m} & sleep ${m}; exit 0`, 'rollback-output', log, stop.signal, 200)
    await waitFor(() => processesMatching(`sleep ${m}`).length >= 3, 'the shell and both sleeps to start')
    stop.abort()
    assert.deepEqual(await running, { code: null, signal: 'SIGKILL' })
    await waitFor(() => processesMatching(`sleep ${m}`).length === 0, 'the background sleep to be killed too')
    assert.equal(lines.filter((line) => line.msg === 'command did not finish after stop; killing').length, 1)
  })

  test('a grace above 2^31-1 ms does not kill the command at once (a plain setTimeout would fire after 1 ms)', async () => {
    const { log } = captureLog()
    const stop = new AbortController()
    stop.abort()
    const exit = await runShellCommand('sleep 0.3; exit 5', 'update-output', log, stop.signal, 2 ** 31 + 1000)
    assert.deepEqual(exit, { code: 5, signal: null })
  })
})

describe('readVersion', () => {
  const node = process.execPath

  test('returns the last non-empty line the version command prints', async () => {
    const { log } = captureLog()
    assert.equal(await readVersion({ command: node, args: ['-e', 'console.log("agent-server"); console.log("1.2.3\\n")'] }, log), '1.2.3')
  })

  test('a failing command or an unusable version gives undefined and a warning', async () => {
    const { log, lines } = captureLog()
    assert.equal(await readVersion({ command: node, args: ['-e', 'console.log("1.2.3"); process.exit(2)'] }, log), undefined)
    assert.equal(await readVersion({ command: node, args: ['-e', 'console.log("1.0; rm -rf /")'] }, log), undefined)
    assert.equal(await readVersion({ command: '/nonexistent/agent-server', args: ['--version'] }, log), undefined)
    assert.deepEqual(lines.map((line) => line.msg), ['version command failed', 'version command printed no usable version', 'version command failed'])
  })

  test('a version command that hangs is killed with its background processes after the timeout', async () => {
    const { log } = captureLog()
    const m = marker()
    const version = await readVersion({ command: '/bin/sh', args: ['-c', `sleep ${m} & sleep ${m}; echo 1.0.0`] }, log, 300)
    assert.equal(version, undefined)
    await waitFor(() => processesMatching(`sleep ${m}`).length === 0, 'the version command\'s processes to be killed')
  })
})
