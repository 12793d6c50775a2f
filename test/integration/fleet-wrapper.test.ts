import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { CLI_PATH, runCli } from '../helpers/cli-process.js'
import { startFakeDashboard } from '../helpers/fake-dashboard.js'
import { freePort } from '../helpers/net.js'
import { killMatching, processAlive } from '../helpers/processes.js'
import { makeStateDir } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

const BIN = fileURLToPath(new URL('../fixtures/fleet-bin', import.meta.url))
const readJson = (path: string): any => { try { return JSON.parse(readFileSync(path, 'utf8')) } catch { return undefined } }
const calls = (log: string): Array<{ argv: string[], pid: number }> => {
  try { return readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) } catch { return [] }
}

test('under --wrapper the tunnel belongs to the wrapper: an update keeps the same host process and URL, and stop ends it', async () => {
  const dir = makeStateDir()
  const port = await freePort()
  const log = join(dir, 'tunnel-calls.ndjson')
  const marker = join(dir, 'update-ran')
  const key = 'fleet-wrapper-key'
  const dashboard = await startFakeDashboard({ refresh: 'updated' })
  const wrapper = spawn(process.execPath, ['--import', 'tsx', CLI_PATH, '--wrapper', '--tunnel', '--register', dashboard.url,
    '--name', 'wrapped-box', '--heartbeat-interval', '0.2', '--port', String(port), '--state-dir', dir, '--log-level', 'warn',
    '--update-command', `touch ${marker}`], {
    env: { ...process.env, AGENT_RUNTIME_API_KEY: key, PATH: `${BIN}:${process.env.PATH ?? ''}`, FAKE_TUNNEL_LOG: log, FAKE_TUNNEL_STATE: join(dir, 'tunnel-state.json') },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  wrapper.stdout.on('data', (d: Buffer) => { output += d.toString() })
  wrapper.stderr.on('data', (d: Buffer) => { output += d.toString() })
  const exited = once(wrapper, 'exit')
  const running = (): void => {
    if (wrapper.exitCode !== null || wrapper.signalCode !== null) throw new Error(`the wrapper exited:\n${output}`)
  }
  try {
    const url = await waitFor(() => { running(); return /Tunnel: (https:\/\/\S+)/.exec(output)?.[1] }, 'the tunnel URL', 30_000)
    assert.ok(url.endsWith(`-${port}.usw2.devtunnels.ms`))
    const firstPid = await waitFor(() => { running(); return readJson(join(dir, 'server.json'))?.pid as number | undefined }, 'the first server', 30_000)
    await waitFor(() => { running(); return dashboard.heartbeats().length > 0 }, 'a heartbeat from the wrapper', 30_000)
    assert.equal(dashboard.heartbeats()[0]?.tunnel_url, url)
    const hosts = (): Array<{ pid: number }> => calls(log).filter((c) => c.argv[0] === 'host')
    const [host] = hosts()
    assert.ok(host && processAlive(host.pid))

    const update = await fetch(`http://127.0.0.1:${port}/update`, { method: 'POST', headers: { 'x-api-key': key } })
    assert.equal(update.status, 200)
    await waitFor(() => { running(); return existsSync(marker) }, 'the update command', 30_000)
    await waitFor(async () => {
      running()
      const pid = readJson(join(dir, 'server.json'))?.pid as number | undefined
      if (pid === undefined || pid === firstPid) return false
      const health = await fetch(`http://127.0.0.1:${port}/health`, { headers: { 'x-api-key': key } }).then((r) => r.json() as Promise<{ pid: number }>, () => undefined)
      return health?.pid === pid
    }, 'the updated server to answer', 60_000)
    // Same host process, no second host, same URL; the child servers never ran devtunnel.
    assert.ok(processAlive(host.pid))
    assert.equal(hosts().length, 1)
    assert.equal(calls(log).filter((c) => c.argv[0] === 'user').length, 1)
    assert.equal(readJson(join(dir, 'fleet.json'))?.tunnel?.url, url)
    assert.equal((output.match(/Tunnel: /g) ?? []).length, 1)

    const stopped = await runCli(['stop', '--state-dir', dir, '--timeout', '30'])
    assert.equal(stopped.code, 0, stopped.stderr)
    const [code] = await exited as [number | null]
    assert.equal(code, 0, output)
    await waitFor(() => !processAlive(host.pid), 'the host to be gone after the wrapper stopped')
  } finally {
    wrapper.kill('SIGKILL')
    killMatching(dir)
    await dashboard.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
