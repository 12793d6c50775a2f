import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, test } from 'node:test'
import { startChild } from '../../../src/update/child.js'
import { killMatching, processesMatching } from '../../helpers/processes.js'
import { waitFor } from '../../helpers/wait.js'
import { captureLog, sleepMarker } from './log-capture.js'

const markers: string[] = []
const marker = (): string => { const m = sleepMarker(); markers.push(m); return m }
const dirs: string[] = []
/** A file the child creates once its signal handler is set. */
const readyFile = (): string => { const dir = mkdtempSync(join(tmpdir(), 'agent-runtime-child-')); dirs.push(dir); return join(dir, 'ready') }
afterEach(() => {
  for (const m of markers.splice(0)) killMatching(`sleep ${m}`)
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const sh = (script: string): { command: string, args: string[] } => ({ command: '/bin/sh', args: ['-c', script] })

describe('the wrapper\'s server child', () => {
  test('its exit code reaches the wrapper as it is (78, 42, 0)', async () => {
    const { log } = captureLog()
    for (const code of [78, 42, 0]) {
      assert.deepEqual(await startChild(sh(`exit ${code}`), log, 5000).exited, { code, signal: null })
    }
  })

  test('stop sends the signal to the child, which may end on its own within the grace', async () => {
    const { log, lines } = captureLog()
    const ready = readyFile()
    const child = startChild(sh(`trap 'exit 7' TERM; touch ${ready}; while :; do sleep 0.05; done`), log, 5000)
    await waitFor(() => existsSync(ready), 'the child to set its handler')
    child.stop('SIGTERM')
    assert.deepEqual(await child.exited, { code: 7, signal: null })
    assert.equal(lines.filter((line) => line.event === 'kill').length, 0)
  })

  test('a child that ignores the stop is killed with its whole group after the grace', async () => {
    const { log, lines } = captureLog()
    const m = marker()
    const child = startChild(sh(`trap '' TERM INT; sleep ${m} & sleep ${m}; exit 0`), log, 200)
    await waitFor(() => processesMatching(`sleep ${m}`).length >= 3, 'the child and its sleeps to start')
    child.stop('SIGTERM')
    child.stop('SIGINT')
    assert.deepEqual(await child.exited, { code: null, signal: 'SIGKILL' })
    await waitFor(() => processesMatching(`sleep ${m}`).length === 0, 'the background sleep to be killed too')
    assert.equal(lines.filter((line) => line.event === 'kill').length, 1)
  })

  test('a grace above 2^31-1 ms does not kill the child at once (a plain setTimeout would fire after 1 ms)', async () => {
    const { log } = captureLog()
    const ready = readyFile()
    const child = startChild(sh(`trap 'sleep 0.3; exit 9' TERM; touch ${ready}; while :; do sleep 0.05; done`), log, 2 ** 31 + 1000)
    await waitFor(() => existsSync(ready), 'the child to set its handler')
    child.stop('SIGTERM')
    assert.deepEqual(await child.exited, { code: 9, signal: null })
  })

  test('a child that cannot start settles with neither code nor signal and is logged', async () => {
    const { log, lines } = captureLog()
    const child = startChild({ command: '/nonexistent/agent-server', args: [] }, log, 5000)
    assert.deepEqual(await child.exited, { code: null, signal: null })
    child.stop('SIGTERM')
    assert.equal(lines.filter((line) => line.msg === 'child did not start').length, 1)
  })
})
