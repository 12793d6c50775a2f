import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { loadConfig, type RawOptions } from '../../../src/config.js'
import { Fleet, type FleetOptions } from '../../../src/fleet/fleet.js'
import { startFakeDashboard, type FakeDashboard } from '../../helpers/fake-dashboard.js'
import { processAlive } from '../../helpers/processes.js'
import { waitFor } from '../../helpers/wait.js'
import { captureLog } from '../update/log-capture.js'

const DEVTUNNEL = fileURLToPath(new URL('../../fixtures/fleet-bin/devtunnel', import.meta.url))
const EXIT_FIXTURE = fileURLToPath(new URL('../../fixtures/fleet-host-then-exit.ts', import.meta.url))
const dirs: string[] = []
after(() => { for (const dir of dirs) rmSync(dir, { recursive: true, force: true }) })

// A stand-in for the server: an authenticated /health with an idle queue.
async function healthServer (): Promise<{ url: string, server: Server }> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', authenticated: true, queue: { running: 0 }, terminal_sessions: 0 }))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, server }
}

// A stand-in for the server whose /health answers 503 until `ready`; each probe records what the dashboard had seen by then.
async function slowHealthServer (dashboard: FakeDashboard): Promise<{ url: string, server: Server, probes: Array<{ answer: number, dashboardRequests: number }>, ready: () => void }> {
  let ready = false
  const probes: Array<{ answer: number, dashboardRequests: number }> = []
  const server = createServer((_request, response) => {
    const answer = ready ? 200 : 503
    probes.push({ answer, dashboardRequests: dashboard.requests.length })
    response.writeHead(answer, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ready ? 'ok' : 'starting', authenticated: true }))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, server, probes, ready: () => { ready = true } }
}

function fleetOptions (dir: string, fleet: RawOptions, rest: Partial<FleetOptions> & Pick<FleetOptions, 'localUrl'>): FleetOptions {
  return {
    fleet: loadConfig(fleet, {}).fleet,
    port: Number(new URL(rest.localUrl).port),
    stateDir: dir,
    version: '0.0.0-test',
    apiKey: () => 'fleet-unit-key',
    env: {},
    print: () => {},
    log: captureLog().log,
    ...rest,
  }
}

describe('the fleet of one process', () => {
  test('when the tunnel host dies, heartbeats say error "tunnel down"', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleet-unit-'))
    dirs.push(dir)
    process.env.FAKE_TUNNEL_LOG = join(dir, 'calls.ndjson')
    process.env.FAKE_TUNNEL_STATE = join(dir, 'state.json')
    process.env.FAKE_DEVTUNNEL_MODE = 'host-dies'
    const dashboard = await startFakeDashboard({ refresh: 'updated' })
    const health = await healthServer()
    const port = Number(new URL(health.url).port)
    let printed = ''
    const fleet = await Fleet.start({
      fleet: loadConfig({ tunnel: true as unknown as string, register: dashboard.url, heartbeatInterval: '0.05' }, {}).fleet,
      port,
      localUrl: health.url,
      stateDir: dir,
      version: '0.0.0-test',
      apiKey: () => 'k',
      env: {},
      print: (text) => { printed += text },
      log: captureLog().log,
      commands: { devtunnel: DEVTUNNEL },
    })
    try {
      assert.match(printed, /Tunnel: https:\/\//)
      await waitFor(() => dashboard.heartbeats().some((h) => h.status === 'error' && h.reason === 'tunnel down'), 'a "tunnel down" heartbeat', 15_000)
      const state = JSON.parse(readFileSync(join(dir, 'fleet.json'), 'utf8'))
      assert.equal(state.registration.state, 'reregistered')
    } finally {
      delete process.env.FAKE_DEVTUNNEL_MODE
      await fleet.close()
      await dashboard.close()
      health.server.close()
    }
  })

  test('a process that exits without closing its tunnel (process.exit, as after an update) takes the host with it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleet-exit-'))
    dirs.push(dir)
    const state = join(dir, 'state.json')
    writeFileSync(state, JSON.stringify({ tunnels: { 'exit-test': [9100] } }))
    const result = spawnSync(process.execPath, ['--import', 'tsx', EXIT_FIXTURE, DEVTUNNEL], {
      env: { ...process.env, FAKE_TUNNEL_STATE: state, FAKE_TUNNEL_LOG: join(dir, 'calls.ndjson'), FAKE_DEVTUNNEL_MODE: 'ok' },
      encoding: 'utf8',
      timeout: 60_000,
    })
    assert.equal(result.status, 42, result.stderr)
    const { pid, ok } = JSON.parse(result.stdout) as { pid: number, ok: boolean }
    assert.equal(ok, true)
    // Without the exit hook the host would run on for ever (its parent is gone, nobody kills it).
    await waitFor(() => !processAlive(pid), 'the host to be gone after its owner exited', 5000)
  })

  test('without --tunnel, DEVPILOT_TUNNEL_URL, DEVPILOT_TERMINAL_URL and DEVPILOT_TUNNEL_TOKEN are what registration and heartbeats send', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleet-env-'))
    dirs.push(dir)
    const dashboard = await startFakeDashboard({ refresh: 404, confirmAfterPolls: 1 })
    const health = await healthServer()
    const env = {
      DEVPILOT_TUNNEL_URL: 'https://given-8585.euw.devtunnels.ms',
      DEVPILOT_TERMINAL_URL: 'https://given-8586.euw.devtunnels.ms',
      DEVPILOT_TUNNEL_TOKEN: 'eyJgiven.token',
    }
    const fleet = await Fleet.start(fleetOptions(dir, { register: dashboard.url, name: 'env-box', heartbeatInterval: '0.05' }, {
      localUrl: health.url,
      env: { ...env },
      registration: { pollIntervalMs: 10 },
    }))
    try {
      await waitFor(() => dashboard.heartbeats().length > 0, 'a heartbeat after the confirmation', 15_000)
      const sent = (path: string): Record<string, unknown> | undefined => dashboard.requests.find((r) => r.path === path)?.body
      const refresh = sent('/api/register/refresh-token')
      assert.deepEqual([refresh?.tunnel_url, refresh?.terminal_url, refresh?.tunnel_token], [env.DEVPILOT_TUNNEL_URL, env.DEVPILOT_TERMINAL_URL, env.DEVPILOT_TUNNEL_TOKEN])
      const submitted = sent('/api/register')
      assert.deepEqual([submitted?.tunnel_url, submitted?.terminal_url, submitted?.tunnel_token], [env.DEVPILOT_TUNNEL_URL, env.DEVPILOT_TERMINAL_URL, env.DEVPILOT_TUNNEL_TOKEN])
      assert.equal(dashboard.heartbeats()[0]?.tunnel_url, env.DEVPILOT_TUNNEL_URL)
    } finally {
      await fleet.close()
      await dashboard.close()
      health.server.close()
    }
  })

  test('without those variables or a tunnel, registration sends the localhost URLs of the port and the next one, and no token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleet-env-'))
    dirs.push(dir)
    const dashboard = await startFakeDashboard({ refresh: 404, confirmAfterPolls: 1 })
    const health = await healthServer()
    const port = Number(new URL(health.url).port)
    const fleet = await Fleet.start(fleetOptions(dir, { register: dashboard.url, heartbeatInterval: '0.05' }, {
      localUrl: health.url,
      env: { DEVPILOT_TUNNEL_URL: '' },
      registration: { pollIntervalMs: 10 },
    }))
    try {
      await waitFor(() => dashboard.heartbeats().length > 0, 'a heartbeat after the confirmation', 15_000)
      const submitted = dashboard.requests.find((r) => r.path === '/api/register')?.body
      assert.equal(submitted?.tunnel_url, `http://localhost:${port}`)
      assert.equal(submitted?.terminal_url, `http://localhost:${port + 1}`)
      assert.equal('tunnel_token' in (submitted ?? {}), false)
      assert.equal(dashboard.heartbeats()[0]?.tunnel_url, null)
    } finally {
      await fleet.close()
      await dashboard.close()
      health.server.close()
    }
  })

  test('registration waits until the server answers /health: no dashboard call while it answers 503, then the call follows the first 200', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleet-health-'))
    dirs.push(dir)
    const dashboard = await startFakeDashboard({ refresh: 'updated' })
    const health = await slowHealthServer(dashboard)
    const fleet = await Fleet.start(fleetOptions(dir, { register: dashboard.url, heartbeatInterval: '0' }, { localUrl: health.url }))
    try {
      await waitFor(() => health.probes.length >= 3, 'three /health probes', 15_000)
      assert.equal(dashboard.requests.length, 0, 'nothing reaches the dashboard while /health answers 503')
      health.ready()
      await waitFor(() => dashboard.requests.length > 0, 'the registration', 15_000)
      assert.equal(dashboard.requests[0]?.path, '/api/register/refresh-token')
      // Every probe before the 200 saw no dashboard call; the 200 is the last probe (heartbeats are off).
      const answers = health.probes.map((p) => p.answer)
      assert.equal(answers.at(-1), 200)
      assert.deepEqual(answers.slice(0, -1).filter((a) => a !== 503), [])
      assert.ok(health.probes.every((p) => p.dashboardRequests === 0))
    } finally {
      await fleet.close()
      await dashboard.close()
      health.server.close()
    }
  })

  test('a server that never answers /health within the deadline is not registered, with one log line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleet-health-'))
    dirs.push(dir)
    const dashboard = await startFakeDashboard({ refresh: 'updated' })
    const health = await slowHealthServer(dashboard)
    const { log, lines } = captureLog()
    const fleet = await Fleet.start(fleetOptions(dir, { register: dashboard.url }, { localUrl: health.url, log, serverDeadlineMs: 300 }))
    try {
      await waitFor(() => lines.some((l) => /did not answer \/health; not registering/.test(l.msg)), 'the give-up line', 15_000)
      assert.equal(lines.filter((l) => /not registering/.test(l.msg)).length, 1)
      assert.ok(health.probes.length >= 1)
      assert.equal(dashboard.requests.length, 0)
    } finally {
      await fleet.close()
      await dashboard.close()
      health.server.close()
    }
  })
})
