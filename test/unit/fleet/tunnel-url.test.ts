import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { challengeCode } from '../../../src/fleet/challenge-code.js'
import { parseToken } from '../../../src/fleet/devtunnel.js'
import { defaultTunnelId, findCloudflaredUrl, findDevtunnelUrl, saysNotLoggedIn, terminalUrlFor } from '../../../src/fleet/tunnel-url.js'

describe('tunnel ids, URLs and tokens', () => {
  test('the tunnel id is devpilot-<lowercased COMPUTERNAME or HOSTNAME>-<port>, else devpilot-<port>', () => {
    assert.equal(defaultTunnelId({ COMPUTERNAME: 'DEVBOX-7' }, 8585), 'devpilot-devbox-7-8585')
    assert.equal(defaultTunnelId({ HOSTNAME: 'Build01' }, 9000), 'devpilot-build01-9000')
    assert.equal(defaultTunnelId({ COMPUTERNAME: 'A', HOSTNAME: 'B' }, 1), 'devpilot-a-1')
    assert.equal(defaultTunnelId({}, 8585), 'devpilot-8585')
  })

  test('the first devtunnels.ms URL of a line is found, its trailing comma removed, never the inspect URL', () => {
    assert.equal(findDevtunnelUrl('Connect via browser: https://abc123-18585.usw2.devtunnels.ms, https://abc123-18585-inspect.usw2.devtunnels.ms'), 'https://abc123-18585.usw2.devtunnels.ms')
    assert.equal(findDevtunnelUrl('Inspect network activity: https://abc123-18585-inspect.usw2.devtunnels.ms'), undefined)
    assert.equal(findDevtunnelUrl('Hosting port: 18585'), undefined)
  })

  test('the cloudflared quick-tunnel URL is found inside its banner box', () => {
    assert.equal(findCloudflaredUrl('2026-11-30T12:00:00Z INF |  https://calm-river-sky.trycloudflare.com      |'), 'https://calm-river-sky.trycloudflare.com')
    assert.equal(findCloudflaredUrl('INF Requesting new quick Tunnel on trycloudflare.com...'), undefined)
  })

  test('the terminal URL is port + 1: every :port for localhost URLs, the first -port. for tunnel URLs', () => {
    assert.equal(terminalUrlFor('https://abc-8585.usw2.devtunnels.ms', 8585), 'https://abc-8586.usw2.devtunnels.ms')
    assert.equal(terminalUrlFor('http://localhost:8585', 8585), 'http://localhost:8586')
    assert.equal(terminalUrlFor('http://127.0.0.1:8585/x', 8585), 'http://127.0.0.1:8586/x')
    assert.equal(terminalUrlFor('https://calm-river.trycloudflare.com', 8585), undefined)
    assert.equal(terminalUrlFor('https://abc-8585.usw2.devtunnels.ms', 8585, 9100), 'https://abc-9100.usw2.devtunnels.ms')
  })

  test('the token is the first "Token: eyJ…" line of devtunnel token', () => {
    assert.equal(parseToken('Tunnel ID: x\nScope: connect\nToken: eyJabc.def\nToken: eyJsecond'), 'eyJabc.def')
    assert.equal(parseToken('Token: not-a-jwt\n'), undefined)
    assert.equal(parseToken(''), undefined)
  })

  test('login trouble is recognised in devtunnel output, whatever the case', () => {
    assert.ok(saysNotLoggedIn('Not logged in.'))
    assert.ok(saysNotLoggedIn('Login required. Run devtunnel user login'))
    assert.equal(saysNotLoggedIn('Logged in as someone@example.com'), false)
  })

  test('challenge codes are three capital letters, a hyphen and four digits, and they vary', () => {
    const codes = new Set(Array.from({ length: 50 }, () => challengeCode()))
    for (const code of codes) assert.match(code, /^[A-Z]{3}-\d{4}$/)
    assert.ok(codes.size > 40)
  })
})
