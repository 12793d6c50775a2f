import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../../../src/config.js'
import { Fleet } from '../../../src/fleet/fleet.js'
import { startFakeDashboard } from '../../helpers/fake-dashboard.js'
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
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', queue: { running: 0 }, terminal_sessions: 0 }))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, server }
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
})
