import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { call, runCli, spawnServer, type ServerProcess } from '../helpers/cli-process.js'
import { startFakeDashboard } from '../helpers/fake-dashboard.js'
import { killMatching, processAlive } from '../helpers/processes.js'
import { makeStateDir } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

const BIN = fileURLToPath(new URL('../fixtures/fleet-bin', import.meta.url))
const dirs: string[] = []
after(() => {
  for (const dir of dirs) {
    killMatching(dir)
    rmSync(dir, { recursive: true, force: true })
  }
})

/** A state dir, and env that puts the fake tunnel programs on PATH and logs their calls there. */
function fleetSetup (env: NodeJS.ProcessEnv = {}): { dir: string, log: string, env: NodeJS.ProcessEnv } {
  const dir = makeStateDir()
  dirs.push(dir)
  const log = join(dir, 'tunnel-calls.ndjson')
  return { dir, log, env: { PATH: `${BIN}:${process.env.PATH ?? ''}`, FAKE_TUNNEL_LOG: log, FAKE_TUNNEL_STATE: join(dir, 'tunnel-state.json'), ...env } }
}

function calls (log: string): Array<{ argv: string[], pid: number }> {
  try {
    return readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as { argv: string[], pid: number })
  } catch {
    return []
  }
}

const portOf = (server: ServerProcess): number => Number(new URL(server.url).port)
const userLines = (output: string): string[] => output.split('\n').filter((line) => line.startsWith('agent-server: '))

async function healthy (server: ServerProcess): Promise<void> {
  assert.equal((await call(server, 'GET', '/health')).status, 200)
}

describe('agent-server --tunnel', () => {
  test('with devtunnel on PATH it prints the tunnel and terminal URLs, serves, and the host is gone after the server stops', async () => {
    const { dir, log, env } = fleetSetup()
    const server = await spawnServer(dir, ['--tunnel'], env)
    try {
      const port = portOf(server)
      const url = await waitFor(() => /Tunnel: (https:\/\/\S+)/.exec(server.output())?.[1], 'the tunnel URL', 30_000)
      assert.match(url, new RegExp(`^https://devpilot-\\S*${port}-${port}\\.usw2\\.devtunnels\\.ms$`))
      assert.ok(server.output().includes(`Terminal tunnel: ${url.replace(`-${port}.`, `-${port + 1}.`)}`))
      await healthy(server)
      const host = calls(log).find((c) => c.argv[0] === 'host')
      assert.ok(host && processAlive(host.pid))
      const fleet = JSON.parse(readFileSync(join(dir, 'fleet.json'), 'utf8'))
      assert.equal(fleet.tunnel.url, url)
      assert.equal(await server.stop(), 0)
      await waitFor(() => !processAlive(host.pid), 'the devtunnel host to be gone')
    } finally {
      await server.stop('SIGKILL')
    }
  })

  test('without devtunnel installed it prints one clear line and the server runs on', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'fleet-empty-path-'))
    dirs.push(empty)
    const { dir, env } = fleetSetup({ PATH: `${empty}:/usr/bin:/bin` })
    const server = await spawnServer(dir, ['--tunnel'], env)
    try {
      await waitFor(() => userLines(server.output()).length > 0, 'the no-tunnel line', 30_000)
      assert.deepEqual(userLines(server.output()).length, 1)
      assert.match(userLines(server.output())[0] ?? '', /devtunnel is not installed.*runs without a tunnel/)
      await healthy(server)
    } finally {
      await server.stop()
    }
  })

  test('with an expired devtunnel login it prints the login hint once and the server runs on', async () => {
    const { dir, log, env } = fleetSetup({ FAKE_DEVTUNNEL_MODE: 'logged-out' })
    const server = await spawnServer(dir, ['--tunnel'], env)
    try {
      await waitFor(() => userLines(server.output()).length > 0, 'the login line', 30_000)
      assert.deepEqual(userLines(server.output()), ['agent-server: devtunnel login expired or missing. Run: devtunnel user login (the server runs without a tunnel)'])
      assert.deepEqual(calls(log).map((c) => c.argv), [['user', 'show']])
      await healthy(server)
    } finally {
      await server.stop()
    }
  })

  test('--tunnel cloudflared runs a quick tunnel to the server\'s port and prints its URL', async () => {
    const { dir, log, env } = fleetSetup()
    const server = await spawnServer(dir, ['--tunnel', 'cloudflared'], env)
    try {
      const url = await waitFor(() => /Tunnel: (https:\/\/\S+)/.exec(server.output())?.[1], 'the tunnel URL', 30_000)
      const [cloudflared] = calls(log)
      assert.deepEqual(cloudflared?.argv, ['tunnel', '--url', `http://127.0.0.1:${portOf(server)}`])
      assert.equal(url, `https://fleet-test-${cloudflared?.pid}.trycloudflare.com`)
      await server.stop()
      await waitFor(() => cloudflared !== undefined && !processAlive(cloudflared.pid), 'cloudflared to be gone')
    } finally {
      await server.stop('SIGKILL')
    }
  })
})

describe('agent-server --register', () => {
  test('a known box re-registers, heartbeats go busy while a job runs and idle after, and the token is refreshed for the created id', async () => {
    const dashboard = await startFakeDashboard({ refresh: 'updated' })
    const { dir, log, env } = fleetSetup()
    const server = await spawnServer(dir, ['--tunnel', '--register', dashboard.url, '--name', 'fleet-box',
      '--heartbeat-interval', '0.2', '--token-refresh-interval', '1'], env)
    try {
      await waitFor(() => server.output().includes('Re-registered with dashboard (devbox: fleet-box)'), 're-registration', 30_000)
      const first = dashboard.requests.find((r) => r.path === '/api/register/refresh-token')
      const tunnelUrl = /Tunnel: (https:\/\/\S+)/.exec(server.output())?.[1]
      assert.equal(first?.body?.tunnel_url, tunnelUrl)
      assert.equal(first?.body?.api_key, server.key)
      await waitFor(() => dashboard.heartbeats().some((h) => h.status === 'idle'), 'an idle heartbeat', 30_000)
      assert.equal(dashboard.heartbeats()[0]?.tunnel_url, tunnelUrl)
      assert.equal(dashboard.heartbeats()[0]?.name, 'fleet-box')

      const job = await call(server, 'POST', '/exec', { command: 'sleep 30' })
      await waitFor(() => dashboard.heartbeats().some((h) => h.status === 'busy' && h.runningJobs === 1), 'a busy heartbeat', 30_000)
      await call(server, 'POST', `/jobs/${job.body.jobId}/kill`)
      const seen = dashboard.heartbeats().length
      await waitFor(() => dashboard.heartbeats().slice(seen).some((h) => h.status === 'idle'), 'idle again', 30_000)

      // The refresh asks devtunnel for the id that was created, and pushes the new token under --name.
      const created = calls(log).find((c) => c.argv[0] === 'create')?.argv[1]
      await waitFor(() => dashboard.requests.filter((r) => r.path === '/api/register/refresh-token').length >= 2, 'a token refresh', 30_000)
      const tokenCalls = calls(log).filter((c) => c.argv[0] === 'token')
      assert.ok(tokenCalls.length >= 2)
      for (const c of tokenCalls) assert.deepEqual(c.argv, ['token', created, '--scopes', 'connect'])
      const refresh = dashboard.requests.filter((r) => r.path === '/api/register/refresh-token')[1]
      assert.equal(refresh?.body?.name, 'fleet-box')
      assert.match(String(refresh?.body?.tunnel_token), /^eyJfake[2-9]/)
      assert.equal(server.output().includes(server.key), false, 'the key is never printed')

      const status = await runCli(['status', '--state-dir', dir], { AGENT_RUNTIME_API_KEY: server.key })
      assert.equal(status.code, 0, status.stderr)
      assert.ok(status.stdout.includes(`tunnel: ${tunnelUrl} (devtunnel ${created})`), status.stdout)
      assert.ok(status.stdout.includes(`registration: reregistered as fleet-box with ${dashboard.url}`), status.stdout)
      assert.match(status.stdout, /last heartbeat: \S+ (idle|busy) → ok \(HTTP 200\)/)
    } finally {
      await server.stop()
      await dashboard.close()
    }
  })

  test('without --tunnel, the DEVPILOT_TUNNEL_URL, DEVPILOT_TERMINAL_URL and DEVPILOT_TUNNEL_TOKEN it was started with are what it registers and heartbeats', async () => {
    const dashboard = await startFakeDashboard({ refresh: 'updated' })
    const { dir, log, env } = fleetSetup({
      DEVPILOT_TUNNEL_URL: 'https://given-8585.euw.devtunnels.ms',
      DEVPILOT_TERMINAL_URL: 'https://given-8586.euw.devtunnels.ms',
      DEVPILOT_TUNNEL_TOKEN: 'eyJgiven.token',
    })
    const server = await spawnServer(dir, ['--register', dashboard.url, '--name', 'env-box', '--heartbeat-interval', '0.2'], env)
    try {
      await waitFor(() => dashboard.heartbeats().length > 0, 'a heartbeat', 30_000)
      const refresh = dashboard.requests.find((r) => r.path === '/api/register/refresh-token')?.body
      assert.equal(refresh?.tunnel_url, env.DEVPILOT_TUNNEL_URL)
      assert.equal(refresh?.terminal_url, env.DEVPILOT_TERMINAL_URL)
      assert.equal(refresh?.tunnel_token, env.DEVPILOT_TUNNEL_TOKEN)
      assert.equal(dashboard.heartbeats()[0]?.tunnel_url, env.DEVPILOT_TUNNEL_URL)
      assert.deepEqual(calls(log), [], 'no tunnel program ran')
      // The token stays out of jobs' environment.
      const job = await call(server, 'POST', '/exec', { command: 'printf "%s|%s" "$DEVPILOT_TUNNEL_URL" "$(printenv DEVPILOT_TUNNEL_TOKEN || echo unset)"' })
      const done = await call(server, 'GET', `/jobs/${job.body.jobId}?wait=30`)
      assert.equal(done.body.stdout, `${env.DEVPILOT_TUNNEL_URL}|unset`)
      const status = await runCli(['status', '--state-dir', dir], { AGENT_RUNTIME_API_KEY: server.key })
      assert.ok(status.stdout.includes(`registration: reregistered as env-box with ${dashboard.url}`), status.stdout)
    } finally {
      await server.stop()
      await dashboard.close()
    }
  })

  test('a plain-http dashboard that is not loopback is refused with exit 78', async () => {
    const dir = makeStateDir()
    dirs.push(dir)
    const result = await runCli(['--register', 'http://dashboard.example.com', '--state-dir', dir])
    assert.equal(result.code, 78)
    assert.match(result.stderr, /--register must be an https:\/\/ URL/)
  })
})
