import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { openCloudflared } from '../../../src/fleet/cloudflared.js'
import { openDevtunnel } from '../../../src/fleet/devtunnel.js'
import type { Tunnel, TunnelFailure } from '../../../src/fleet/tunnel.js'
import { processAlive } from '../../helpers/processes.js'
import { waitFor } from '../../helpers/wait.js'
import { captureLog } from '../update/log-capture.js'

const BIN = fileURLToPath(new URL('../../fixtures/fleet-bin/', import.meta.url))
const DEVTUNNEL = join(BIN, 'devtunnel')
const CLOUDFLARED = join(BIN, 'cloudflared')
const dirs: string[] = []
after(() => { for (const dir of dirs) rmSync(dir, { recursive: true, force: true }) })

// Why: the fakes read their mode and log paths from the environment, as tests of a real CLI would.
function fakeEnv (mode = 'ok'): { log: string, state: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-devtunnel-'))
  dirs.push(dir)
  const paths = { log: join(dir, 'calls.ndjson'), state: join(dir, 'state.json') }
  process.env.FAKE_TUNNEL_LOG = paths.log
  process.env.FAKE_TUNNEL_STATE = paths.state
  process.env.FAKE_DEVTUNNEL_MODE = mode
  return paths
}

function calls (log: string): Array<{ argv: string[], pid: number }> {
  return readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { argv: string[], pid: number })
}

function opened (result: Tunnel | TunnelFailure): Tunnel {
  if ('failed' in result) assert.fail(`no tunnel: ${result.failed}`)
  return result
}

describe('devtunnel', () => {
  test('without --tunnel-id it checks the login, creates the tunnel and both ports, opens access, gets a token and hosts, in that order', async () => {
    const paths = fakeEnv()
    const tunnel = opened(await openDevtunnel({ port: 18585, tunnelId: null, env: { COMPUTERNAME: 'FLEETBOX' }, log: captureLog().log, command: DEVTUNNEL }))
    try {
      const id = 'devpilot-fleetbox-18585'
      assert.deepEqual(calls(paths.log).map((c) => c.argv), [
        ['user', 'show'],
        ['create', id, '--expiration', '30d'],
        ['port', 'create', id, '-p', '18585'],
        ['port', 'create', id, '-p', '18586'],
        ['access', 'create', id, '--anonymous'],
        ['port', 'create', id, '-p', '18586'],
        ['token', id, '--scopes', 'connect'],
        ['host', id],
      ])
      assert.equal(tunnel.id, id)
      assert.equal(tunnel.url, `https://${id}-18585.usw2.devtunnels.ms`)
      assert.equal(tunnel.terminalUrl, `https://${id}-18586.usw2.devtunnels.ms`)
      assert.equal(tunnel.token, `eyJfake1.${id}`)
      assert.ok(tunnel.alive)
    } finally {
      tunnel.close()
    }
  })

  test('with --tunnel-id it creates nothing, and a token refresh asks for the same id', async () => {
    const paths = fakeEnv()
    writeFileSync(paths.state, JSON.stringify({ tunnels: { 'my-box': [9000] }, tokens: 0 }))
    const tunnel = opened(await openDevtunnel({ port: 9000, tunnelId: 'my-box', env: {}, log: captureLog().log, command: DEVTUNNEL }))
    try {
      assert.equal(tunnel.url, 'https://my-box-9000.usw2.devtunnels.ms')
      assert.equal(await tunnel.refreshToken(), 'eyJfake2.my-box')
      const argvs = calls(paths.log).map((c) => c.argv)
      assert.equal(argvs.some((argv) => argv[0] === 'create'), false)
      assert.deepEqual(argvs.at(-1), ['token', 'my-box', '--scopes', 'connect'])
    } finally {
      tunnel.close()
    }
  })

  test('an explicit terminal port is the one forwarded and derived, and its URL is never taken for the main one', async () => {
    const paths = fakeEnv()
    const tunnel = opened(await openDevtunnel({ port: 18585, terminalPort: 17000, tunnelId: null, env: {}, log: captureLog().log, command: DEVTUNNEL }))
    try {
      const id = 'devpilot-18585'
      assert.deepEqual(calls(paths.log).map((c) => c.argv).filter((argv) => argv[0] === 'port'), [
        ['port', 'create', id, '-p', '18585'], ['port', 'create', id, '-p', '17000'], ['port', 'create', id, '-p', '17000'],
      ])
      assert.equal(tunnel.url, `https://${id}-18585.usw2.devtunnels.ms`)
      assert.equal(tunnel.terminalUrl, `https://${id}-17000.usw2.devtunnels.ms`)
    } finally {
      tunnel.close()
    }
  })

  test('the host process group is gone after close, and close can be called twice', async () => {
    const paths = fakeEnv()
    const tunnel = opened(await openDevtunnel({ port: 18590, tunnelId: null, env: {}, log: captureLog().log, command: DEVTUNNEL }))
    const host = calls(paths.log).find((c) => c.argv[0] === 'host')
    assert.ok(host && processAlive(host.pid))
    tunnel.close()
    tunnel.close()
    await waitFor(() => !processAlive(host.pid), 'the host to be gone')
    await waitFor(() => !tunnel.alive, 'the tunnel to see its host gone')
  })

  test('an expired login is one clear line and nothing is created', async () => {
    const paths = fakeEnv('logged-out')
    const result = await openDevtunnel({ port: 18591, tunnelId: null, env: {}, log: captureLog().log, command: DEVTUNNEL })
    assert.deepEqual(result, { failed: 'devtunnel login expired or missing. Run: devtunnel user login (the server runs without a tunnel)' })
    assert.deepEqual(calls(paths.log).map((c) => c.argv), [['user', 'show']])
  })

  test('a missing devtunnel binary is one line with the install hint', async () => {
    fakeEnv()
    const result = await openDevtunnel({ port: 18592, tunnelId: null, env: {}, log: captureLog().log, command: join(BIN, 'no-such-devtunnel') })
    assert.ok('failed' in result)
    assert.match(result.failed, /devtunnel is not installed/)
  })

  test('"login required" from the host, or a host that prints no URL, ends the host and gives no tunnel', async () => {
    for (const mode of ['host-login-required', 'no-url']) {
      const paths = fakeEnv(mode)
      const result = await openDevtunnel({ port: 18593, tunnelId: null, env: {}, log: captureLog().log, command: DEVTUNNEL, urlDeadlineMs: 3000 })
      assert.ok('failed' in result, mode)
      assert.match(result.failed, mode === 'no-url' ? /gave no URL.*devtunnel user show/ : /login expired/)
      const host = calls(paths.log).find((c) => c.argv[0] === 'host')
      assert.ok(host)
      await waitFor(() => !processAlive(host.pid), `the ${mode} host to be gone`)
    }
  })
})

describe('cloudflared', () => {
  test('a quick tunnel runs "cloudflared tunnel --url http://127.0.0.1:PORT" and its URL comes from the output', async () => {
    const paths = fakeEnv()
    const tunnel = opened(await openCloudflared({ port: 18600, log: captureLog().log, command: CLOUDFLARED }))
    const [call] = calls(paths.log)
    try {
      assert.deepEqual(call?.argv, ['tunnel', '--url', 'http://127.0.0.1:18600'])
      assert.equal(tunnel.url, `https://fleet-test-${call?.pid}.trycloudflare.com`)
      assert.equal(tunnel.terminalUrl, undefined)
      assert.equal(tunnel.id, null)
    } finally {
      tunnel.close()
    }
    await waitFor(() => call !== undefined && !processAlive(call.pid), 'cloudflared to be gone')
  })

  test('cloudflared without a URL in its output gives no tunnel and is ended', async () => {
    const paths = fakeEnv()
    process.env.FAKE_CLOUDFLARED_MODE = 'no-url'
    try {
      const result = await openCloudflared({ port: 18601, log: captureLog().log, command: CLOUDFLARED, urlDeadlineMs: 1500 })
      assert.ok('failed' in result)
      const [call] = calls(paths.log)
      await waitFor(() => call !== undefined && !processAlive(call.pid), 'cloudflared to be gone')
    } finally {
      delete process.env.FAKE_CLOUDFLARED_MODE
    }
  })
})
