import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { register, type RegistrationState } from '../../../src/fleet/registration.js'
import { startFakeDashboard, type FakeDashboard } from '../../helpers/fake-dashboard.js'
import { captureLog } from '../update/log-capture.js'

const KEY = 'secret-key-never-printed'
const dashboards: FakeDashboard[] = []
after(async () => { await Promise.all(dashboards.map((d) => d.close())) })

async function dashboard (behaviour: Parameters<typeof startFakeDashboard>[0]): Promise<FakeDashboard> {
  const d = await startFakeDashboard(behaviour)
  dashboards.push(d)
  return d
}

async function run (d: FakeDashboard, overrides: { pollTimeoutMs?: number } = {}): Promise<{ state: RegistrationState, printed: string, logged: string, states: RegistrationState[] }> {
  let printed = ''
  const states: RegistrationState[] = []
  const { log, lines } = captureLog()
  const state = await register({
    dashboard: d.url,
    name: 'fleet-box',
    tunnelUrl: 'https://t-8585.usw2.devtunnels.ms',
    terminalUrl: 'https://t-8586.usw2.devtunnels.ms',
    tunnelToken: 'eyJtoken',
    apiKey: () => KEY,
    print: (text) => { printed += text },
    log,
    signal: new AbortController().signal,
    onState: (s) => states.push(s),
    pollIntervalMs: 20,
    retryDelayMs: 20,
    pollTimeoutMs: overrides.pollTimeoutMs ?? 10_000,
  })
  return { state, printed, logged: JSON.stringify(lines), states }
}

describe('dashboard registration', () => {
  test('a dashboard that knows the box re-registers it with refresh-token and no challenge code', async () => {
    const d = await dashboard({ refresh: 'updated' })
    const { state, printed } = await run(d)
    assert.equal(state, 'reregistered')
    assert.equal(printed, 'Re-registered with dashboard (devbox: fleet-box)\n')
    assert.deepEqual(d.requests.map((r) => r.path), ['/api/register/refresh-token'])
    assert.deepEqual(d.requests[0]?.body, {
      name: 'fleet-box',
      tunnel_url: 'https://t-8585.usw2.devtunnels.ms',
      terminal_url: 'https://t-8586.usw2.devtunnels.ms',
      tunnel_token: 'eyJtoken',
      api_key: KEY,
      current_api_key: KEY,
    })
  })

  test('an unknown box gets a challenge code in a banner, and the poll ends when the dashboard confirms', async () => {
    const d = await dashboard({ refresh: 404, confirmAfterPolls: 3 })
    const { state, printed, logged, states } = await run(d)
    assert.equal(state, 'confirmed')
    const submit = d.requests.find((r) => r.path === '/api/register')
    const code = submit?.body?.challenge_code as string
    assert.match(code, /^[A-Z]{3}-\d{4}$/)
    assert.deepEqual(submit?.body, {
      name: 'fleet-box',
      tunnel_url: 'https://t-8585.usw2.devtunnels.ms',
      terminal_url: 'https://t-8586.usw2.devtunnels.ms',
      challenge_code: code,
      api_key: KEY,
      tunnel_token: 'eyJtoken',
    })
    assert.ok(printed.includes(`REGISTRATION CODE: ${code}`))
    assert.ok(printed.includes(`Enter this code on the dashboard to confirm: ${d.url}/devboxes`))
    assert.ok(printed.includes('Confirmed! Registered as: fleet-box (id: box-7)'))
    assert.equal(d.requests.filter((r) => r.path === '/api/register/reg-1/status').length, 3)
    assert.deepEqual(states, ['awaiting-confirmation', 'confirmed'])
    assert.equal(printed.includes(KEY), false)
    assert.equal(logged.includes(KEY), false)
  })

  test('network errors on submit are retried (up to three tries)', async () => {
    const d = await dashboard({ dropRegister: 2 })
    assert.equal((await run(d)).state, 'confirmed')
    assert.equal(d.requests.filter((r) => r.path === '/api/register').length, 3)
  })

  test('three network errors in a row abandon the registration', async () => {
    const d = await dashboard({ dropRegister: 5 })
    const { state, printed } = await run(d)
    assert.equal(state, 'failed')
    assert.match(printed, /Failed to submit registration/)
    assert.equal(d.requests.filter((r) => r.path === '/api/register').length, 3)
  })

  test('an HTTP error on submit prints the status and stops at once', async () => {
    const d = await dashboard({ registerStatus: 403 })
    const { state, printed } = await run(d)
    assert.equal(state, 'failed')
    assert.match(printed, /HTTP 403 .*refused by the fake dashboard/)
    assert.equal(d.requests.filter((r) => r.path === '/api/register').length, 1)
  })

  test('a code nobody confirms times out with devpilot\'s message', async () => {
    const d = await dashboard({ confirmAfterPolls: Infinity })
    const { state, printed } = await run(d, { pollTimeoutMs: 300 })
    assert.equal(state, 'timeout')
    assert.match(printed, /Registration timed out \(10 minutes\)/)
  })
})
