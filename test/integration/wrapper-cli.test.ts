import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { CLI_PATH, runCli } from '../helpers/cli-process.js'
import { killMatching, parentOf, processAlive } from '../helpers/processes.js'
import { freePort } from '../helpers/net.js'
import { makeStateDir } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

const serverPid = (dir: string): number | undefined => {
  try { return JSON.parse(readFileSync(join(dir, 'server.json'), 'utf8')).pid } catch { return undefined }
}

test('agent-server --wrapper restarts the real server after POST /update, and stop ends both', async () => {
  const dir = makeStateDir()
  const port = await freePort()
  const marker = join(dir, 'update-ran')
  const key = 'wrapper-test-key'
  const wrapper = spawn(process.execPath, ['--import', 'tsx', CLI_PATH, '--wrapper', '--port', String(port), '--state-dir', dir,
    '--log-level', 'warn', '--update-command', `touch ${marker}`], {
    env: { ...process.env, AGENT_RUNTIME_API_KEY: key },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  wrapper.stdout.on('data', (d: Buffer) => { output += d.toString() })
  wrapper.stderr.on('data', (d: Buffer) => { output += d.toString() })
  const exited = once(wrapper, 'exit')
  // Every wait fails at once, with the output, when the wrapper is gone: it must outlive the update.
  const wrapperRunning = (): void => {
    if (wrapper.exitCode !== null || wrapper.signalCode !== null) throw new Error(`the wrapper exited (${wrapper.exitCode ?? wrapper.signalCode}):\n${output}`)
  }
  const healthFrom = async (pid: number): Promise<{ pid: number, draining: boolean } | undefined> => {
    wrapperRunning()
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health`, { headers: { 'x-api-key': key } })
      const body = await response.json() as { pid: number, draining: boolean }
      return response.status === 200 && body.pid === pid ? body : undefined
    } catch {
      return undefined
    }
  }
  try {
    const firstPid = await waitFor(() => { wrapperRunning(); return serverPid(dir) }, 'the first server', 30_000)
    await waitFor(() => healthFrom(firstPid), 'the first server to answer', 30_000)
    const update = await fetch(`http://127.0.0.1:${port}/update`, { method: 'POST', headers: { 'x-api-key': key } })
    assert.equal(update.status, 200)
    await waitFor(() => { wrapperRunning(); return existsSync(marker) }, 'the update command to run', 30_000)
    const secondPid = await waitFor(() => {
      wrapperRunning()
      const pid = serverPid(dir)
      return pid !== undefined && pid !== firstPid ? pid : undefined
    }, 'a new server to start', 30_000)
    // The server answering now is the new process, started by the same wrapper, and takes work again.
    const health = await waitFor(() => healthFrom(secondPid), 'the new server to answer /health', 30_000)
    assert.equal(health.draining, false)
    assert.equal(processAlive(firstPid), false, 'the first server has exited')
    assert.equal(parentOf(secondPid), wrapper.pid, 'the new server is the wrapper\'s child')
    const stopped = await runCli(['stop', '--state-dir', dir, '--timeout', '30'])
    assert.equal(stopped.code, 0, stopped.stderr)
    const [code] = await exited as [number | null]
    assert.equal(code, 0, output)
  } finally {
    wrapper.kill('SIGKILL')
    killMatching(dir)
    rmSync(dir, { recursive: true, force: true })
  }
})

test('agent-server --wrapper refuses --port 0 with exit 78', async () => {
  const dir = makeStateDir()
  try {
    const result = await runCli(['--wrapper', '--port', '0', '--state-dir', dir])
    assert.equal(result.code, 78)
    assert.match(result.stderr, /--wrapper needs a fixed --port/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
