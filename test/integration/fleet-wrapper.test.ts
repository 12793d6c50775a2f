import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
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

/** `agent-server --wrapper --tunnel --register …` with the fake devtunnel, as its own process. */
interface WrappedFleet {
  wrapper: ChildProcess
  output: () => string
  exited: Promise<unknown[]>
  /** Throws when the wrapper has exited (so a wait fails at once, with its output). */
  running: () => void
  /** The devtunnel calls so far. */
  calls: () => Array<{ argv: string[], pid: number }>
  /** The pid recorded in server.json (the server child). */
  serverPid: () => number | undefined
  /** True once the server answering /health is the one recorded in server.json, and it is not `notPid`. */
  serverUp: (notPid: number) => Promise<boolean>
}

function startWrappedFleet (dir: string, port: number, key: string, dashboard: string, extraArgs: string[] = []): WrappedFleet {
  const log = join(dir, 'tunnel-calls.ndjson')
  const wrapper = spawn(process.execPath, ['--import', 'tsx', CLI_PATH, '--wrapper', '--tunnel', '--register', dashboard,
    '--name', 'wrapped-box', '--heartbeat-interval', '0.2', '--port', String(port), '--state-dir', dir, '--log-level', 'warn', ...extraArgs], {
    env: { ...process.env, AGENT_RUNTIME_API_KEY: key, PATH: `${BIN}:${process.env.PATH ?? ''}`, FAKE_TUNNEL_LOG: log, FAKE_TUNNEL_STATE: join(dir, 'tunnel-state.json') },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  wrapper.stdout?.on('data', (d: Buffer) => { output += d.toString() })
  wrapper.stderr?.on('data', (d: Buffer) => { output += d.toString() })
  const exited = once(wrapper, 'exit')
  const running = (): void => {
    if (wrapper.exitCode !== null || wrapper.signalCode !== null) throw new Error(`the wrapper exited:\n${output}`)
  }
  const serverPid = (): number | undefined => readJson(join(dir, 'server.json'))?.pid as number | undefined
  const serverUp = async (notPid: number): Promise<boolean> => {
    running()
    const pid = serverPid()
    if (pid === undefined || pid === notPid) return false
    const health = await fetch(`http://127.0.0.1:${port}/health`, { headers: { 'x-api-key': key } }).then((r) => r.json() as Promise<{ pid: number }>, () => undefined)
    return health?.pid === pid
  }
  return { wrapper, output: () => output, exited, running, calls: () => calls(log), serverPid, serverUp }
}

/** `agent-server stop` ends the wrapper with exit code 0, and the devtunnel host with it. */
async function stopAndCheck (fleet: WrappedFleet, dir: string, hostPid: number): Promise<void> {
  const stopped = await runCli(['stop', '--state-dir', dir, '--timeout', '30'])
  assert.equal(stopped.code, 0, stopped.stderr)
  const [code] = await fleet.exited as [number | null]
  assert.equal(code, 0, fleet.output())
  await waitFor(() => !processAlive(hostPid), 'the host to be gone after the wrapper stopped')
}

/** Whatever happened: no wrapper, server, tunnel host or dashboard left, and no state dir. */
async function cleanUp (fleet: WrappedFleet, dir: string, dashboard: { close: () => Promise<void> }): Promise<void> {
  fleet.wrapper.kill('SIGKILL')
  killMatching(dir)
  await dashboard.close()
  rmSync(dir, { recursive: true, force: true })
}

test('under --wrapper the tunnel belongs to the wrapper: an update keeps the same host process and URL, and stop ends it', async () => {
  const dir = makeStateDir()
  const port = await freePort()
  const marker = join(dir, 'update-ran')
  const key = 'fleet-wrapper-key'
  const dashboard = await startFakeDashboard({ refresh: 'updated' })
  const fleet = startWrappedFleet(dir, port, key, dashboard.url, ['--update-command', `touch ${marker}`])
  const { running } = fleet
  try {
    const url = await waitFor(() => { running(); return /Tunnel: (https:\/\/\S+)/.exec(fleet.output())?.[1] }, 'the tunnel URL', 30_000)
    assert.ok(url.endsWith(`-${port}.usw2.devtunnels.ms`))
    const firstPid = await waitFor(() => { running(); return fleet.serverPid() }, 'the first server', 30_000)
    await waitFor(() => { running(); return dashboard.heartbeats().length > 0 }, 'a heartbeat from the wrapper', 30_000)
    assert.equal(dashboard.heartbeats()[0]?.tunnel_url, url)
    // The first server child was started after the tunnel opened: its jobs see the URL, as devpilot's do.
    await waitFor(() => fleet.serverUp(0), 'the first server to answer', 30_000)
    const submitted = await fetch(`http://127.0.0.1:${port}/exec`, {
      method: 'POST', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: JSON.stringify({ command: 'printf %s "$DEVPILOT_TUNNEL_URL"' }),
    }).then((r) => r.json() as Promise<{ jobId: string }>)
    const job = await fetch(`http://127.0.0.1:${port}/jobs/${submitted.jobId}?wait=30`, { headers: { 'x-api-key': key } }).then((r) => r.json() as Promise<{ status: string, stdout: string }>)
    assert.deepEqual([job.status, job.stdout], ['completed', url])
    const hosts = (): Array<{ pid: number }> => fleet.calls().filter((c) => c.argv[0] === 'host')
    const [host] = hosts()
    assert.ok(host && processAlive(host.pid))

    const update = await fetch(`http://127.0.0.1:${port}/update`, { method: 'POST', headers: { 'x-api-key': key } })
    assert.equal(update.status, 200)
    await waitFor(() => { running(); return existsSync(marker) }, 'the update command', 30_000)
    await waitFor(async () => await fleet.serverUp(firstPid), 'the updated server to answer', 60_000)
    // Same host process, no second host, same URL; the child servers never ran devtunnel.
    assert.ok(processAlive(host.pid))
    assert.equal(hosts().length, 1)
    assert.equal(fleet.calls().filter((c) => c.argv[0] === 'user').length, 1)
    assert.equal(readJson(join(dir, 'fleet.json'))?.tunnel?.url, url)
    assert.equal((fleet.output().match(/Tunnel: /g) ?? []).length, 1)

    await stopAndCheck(fleet, dir, host.pid)
  } finally {
    await cleanUp(fleet, dir, dashboard)
  }
})

test('under --wrapper a server killed with SIGKILL is restarted behind the same tunnel: same host process, same URL, heartbeats go on', async () => {
  const dir = makeStateDir()
  const port = await freePort()
  const key = 'fleet-wrapper-crash-key'
  const dashboard = await startFakeDashboard({ refresh: 'updated' })
  const fleet = startWrappedFleet(dir, port, key, dashboard.url)
  const { running } = fleet
  try {
    const url = await waitFor(() => { running(); return /Tunnel: (https:\/\/\S+)/.exec(fleet.output())?.[1] }, 'the tunnel URL', 30_000)
    const firstPid = await waitFor(async () => await fleet.serverUp(-1) ? fleet.serverPid() : undefined, 'the first server', 30_000)
    await waitFor(() => { running(); return dashboard.heartbeats().some((h) => h.status === 'idle') }, 'an idle heartbeat', 30_000)
    const hosts = (): Array<{ pid: number }> => fleet.calls().filter((c) => c.argv[0] === 'host')
    const [host] = hosts()
    assert.ok(host && processAlive(host.pid))

    // The server child crashes (the wrapper is untouched) and the wrapper starts a new one.
    process.kill(firstPid, 'SIGKILL')
    await waitFor(async () => await fleet.serverUp(firstPid), 'the restarted server to answer', 60_000)
    assert.equal(fleet.wrapper.exitCode, null)
    assert.ok(processAlive(host.pid), 'the same devtunnel host runs on')
    assert.equal(hosts().length, 1)
    assert.equal(fleet.calls().filter((c) => c.argv[0] === 'create').length, 1)
    assert.equal(readJson(join(dir, 'fleet.json'))?.tunnel?.url, url)
    assert.equal((fleet.output().match(/Tunnel: /g) ?? []).length, 1)
    const seen = dashboard.heartbeats().length
    await waitFor(() => { running(); return dashboard.heartbeats().slice(seen).some((h) => h.status === 'idle') }, 'an idle heartbeat from the restarted server', 30_000)
    assert.ok(dashboard.heartbeats().every((h) => h.tunnel_url === url))
    assert.equal(dashboard.requests.filter((r) => r.path === '/api/register/refresh-token').length, 1, 'registered once, not again after the crash')

    await stopAndCheck(fleet, dir, host.pid)
  } finally {
    await cleanUp(fleet, dir, dashboard)
  }
})
