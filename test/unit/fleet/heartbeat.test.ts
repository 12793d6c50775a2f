import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { runHeartbeats, type ServerStatus } from '../../../src/fleet/heartbeat.js'
import { startFakeDashboard, type FakeDashboard } from '../../helpers/fake-dashboard.js'
import { waitFor } from '../../helpers/wait.js'
import { captureLog } from '../update/log-capture.js'

const dashboards: FakeDashboard[] = []
after(async () => { await Promise.all(dashboards.map((d) => d.close())) })

describe('heartbeats', () => {
  test('heartbeats carry name, status, counts, version and tunnel URL, and follow busy/idle changes', async () => {
    const d = await startFakeDashboard()
    dashboards.push(d)
    let status: ServerStatus = { status: 'idle', runningJobs: 0, terminals: 0 }
    const stop = new AbortController()
    const done = runHeartbeats({
      dashboard: d.url,
      name: 'box',
      version: '9.9.9',
      intervalMs: 20,
      probe: async () => status,
      tunnelUrl: () => 'https://t.devtunnels.ms',
      log: captureLog().log,
      signal: stop.signal,
    })
    await waitFor(() => d.heartbeats().length >= 1, 'a first heartbeat')
    assert.deepEqual(d.heartbeats()[0], { name: 'box', status: 'idle', runningJobs: 0, terminals: 0, version: '9.9.9', tunnel_url: 'https://t.devtunnels.ms' })
    status = { status: 'busy', runningJobs: 2, terminals: 1 }
    await waitFor(() => d.heartbeats().some((h) => h.status === 'busy' && h.runningJobs === 2), 'a busy heartbeat')
    status = { status: 'error', runningJobs: 0, terminals: 0, reason: 'tunnel down' }
    await waitFor(() => d.heartbeats().some((h) => h.status === 'error' && h.reason === 'tunnel down'), 'an error heartbeat')
    stop.abort()
    await done
  })

  test('a 404 from the dashboard turns heartbeats off with one log line', async () => {
    const d = await startFakeDashboard({ heartbeatStatus: 404 })
    dashboards.push(d)
    const { log, lines } = captureLog()
    await runHeartbeats({
      dashboard: d.url,
      name: 'box',
      version: '1',
      intervalMs: 10,
      probe: async () => ({ status: 'idle', runningJobs: 0, terminals: 0 }),
      tunnelUrl: () => undefined,
      log,
      signal: new AbortController().signal,
    })
    assert.equal(d.heartbeats().length, 1)
    assert.equal(lines.filter((l) => /heartbeats are off/.test(l.msg)).length, 1)
  })

  test('network errors back off: the wait doubles after each failure, up to the limit', async () => {
    const d = await startFakeDashboard()
    dashboards.push(d)
    const url = d.url
    await d.close()
    const waits: number[] = []
    const stop = new AbortController()
    await runHeartbeats({
      dashboard: url,
      name: 'box',
      version: '1',
      intervalMs: 10,
      maxBackoffMs: 100,
      probe: async () => ({ status: 'idle', runningJobs: 0, terminals: 0 }),
      tunnelUrl: () => undefined,
      log: captureLog().log,
      signal: stop.signal,
      sleep: async (delayMs) => {
        waits.push(delayMs)
        if (waits.length >= 5) stop.abort()
        return !stop.signal.aborted
      },
    })
    assert.deepEqual(waits, [20, 40, 80, 100, 100])
  })
})
