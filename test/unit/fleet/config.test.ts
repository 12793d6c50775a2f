import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ConfigError, loadConfig } from '../../../src/config.js'

describe('fleet settings', () => {
  test('nothing given: no tunnel, no registration, heartbeats every 60 s, token refresh every 20 h', () => {
    const { fleet } = loadConfig({}, { COMPUTERNAME: 'BOX1' })
    assert.deepEqual(fleet, { tunnel: null, tunnelId: null, register: null, name: 'BOX1', heartbeatIntervalMs: 60_000, tokenRefreshIntervalMs: 72_000_000 })
  })

  test('a bare --tunnel is devtunnel; --tunnel cloudflared picks the other provider', () => {
    assert.equal(loadConfig({ tunnel: true as unknown as string }, {}).fleet.tunnel, 'devtunnel')
    assert.equal(loadConfig({ tunnel: 'cloudflared' }, {}).fleet.tunnel, 'cloudflared')
    assert.equal(loadConfig({}, { AGENT_RUNTIME_TUNNEL: 'devtunnel' }).fleet.tunnel, 'devtunnel')
  })

  test('--register, --name and --tunnel-id are kept; a trailing slash of the dashboard URL is dropped', () => {
    const { fleet } = loadConfig({ tunnel: true as unknown as string, tunnelId: 'my-box', register: 'https://dash.example.com/', name: 'builder' }, {})
    assert.equal(fleet.register, 'https://dash.example.com')
    assert.equal(fleet.name, 'builder')
    assert.equal(fleet.tunnelId, 'my-box')
  })

  test('a plain-http dashboard is refused unless it is loopback or --allow-insecure-dashboard is given', () => {
    assert.throws(() => loadConfig({ register: 'http://dash.example.com' }, {}), (err: Error) => err instanceof ConfigError && /https:\/\/.*--allow-insecure-dashboard/.test(err.message))
    assert.equal(loadConfig({ register: 'http://127.0.0.1:9000' }, {}).fleet.register, 'http://127.0.0.1:9000')
    assert.equal(loadConfig({ register: 'http://localhost:9000' }, {}).fleet.register, 'http://localhost:9000')
    assert.equal(loadConfig({ register: 'http://dash.example.com', allowInsecureDashboard: true as unknown as string }, {}).fleet.register, 'http://dash.example.com')
  })

  test('bad values are configuration errors', () => {
    for (const cli of [
      { tunnel: 'ngrok' }, { tunnelId: 'Bad_ID' }, { register: 'ftp://x' }, { register: 'not a url' },
      { heartbeatInterval: '-1' }, { tunnel: 'cloudflared', tunnelId: 'my-box' }, { name: ' ' },
    ]) {
      assert.throws(() => loadConfig(cli, {}), ConfigError, JSON.stringify(cli))
    }
  })
})
