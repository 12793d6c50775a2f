import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { probeServer, type ServerStatus } from '../../src/fleet/heartbeat.js'
import { agentArgv, marker, SCRIPTED_AGENT } from '../helpers/acp.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { TerminalClient } from '../helpers/terminal.js'
import { waitFor } from '../helpers/wait.js'

// The heartbeat's probe against a real server: what a dashboard's status dot would show.
describe('the heartbeat probe of a real server', () => {
  let server: TestServer
  const workdir = mkdtempSync(join(tmpdir(), 'fleet-probe-'))
  before(async () => { server = await startServer({ killGrace: '1', terminalOrphanTtl: '60' }) })
  after(async () => {
    await server.close()
    rmSync(workdir, { recursive: true, force: true })
  })

  const probe = async (key = server.key, tunnelDown = false): Promise<ServerStatus> =>
    await probeServer(`${server.url}/health`, () => key, () => tunnelDown)
  const becomes = async (expected: Partial<ServerStatus>, what: string): Promise<ServerStatus> => {
    let last: ServerStatus | undefined
    try {
      return await waitFor(async () => {
        last = await probe()
        return Object.entries(expected).every(([k, v]) => last?.[k as keyof ServerStatus] === v) ? last : undefined
      }, what, 30_000)
    } catch (err) {
      throw new Error(`${(err as Error).message}; last probe: ${JSON.stringify(last)}`)
    }
  }

  test('a server with nothing running is idle, and reports its version', async () => {
    const status = await probe()
    assert.equal(status.status, 'idle')
    assert.equal(status.runningJobs, 0)
    assert.equal(status.terminals, 0)
    assert.equal(typeof status.version, 'string')
    assert.equal(status.reason, undefined)
  })

  test('a running shell job makes it busy, and it is idle again once the job is killed', async () => {
    const id = await server.submit({ command: 'sleep 60' })
    await becomes({ status: 'busy', runningJobs: 1, terminals: 0 }, 'busy while the job runs')
    await server.api('POST', `/jobs/${id}/kill`)
    await server.finished(id)
    await becomes({ status: 'idle', runningJobs: 0 }, 'idle after the job')
  })

  test('a running ACP run makes it busy, and it is idle again once the run is cancelled', async () => {
    const agent = agentArgv(SCRIPTED_AGENT, marker()).map((a) => `'${a}'`).join(' ')
    const id = await server.submit({ mode: 'acp', workdir, agent, prompt: JSON.stringify([{ sleep: 60_000 }]) })
    await becomes({ status: 'busy', runningJobs: 1 }, 'busy while the ACP run is active')
    await server.api('DELETE', `/jobs/${id}`)
    assert.equal((await server.finished(id)).status, 'cancelled')
    await becomes({ status: 'idle', runningJobs: 0 }, 'idle after the ACP run')
  })

  test('an open terminal makes it busy, and it is idle again once the terminal ends', async () => {
    const client = await TerminalClient.open(`${server.url.replace(/^http/, 'ws')}/terminal?shell=/bin/bash`, { 'x-api-key': server.key })
    assert.equal(client.refused, undefined, JSON.stringify(client.refused))
    await client.sessionId()
    await becomes({ status: 'busy', terminals: 1, runningJobs: 0 }, 'busy while the terminal is open')
    client.type('exit\r')
    await client.closed
    await becomes({ status: 'idle', terminals: 0 }, 'idle after the terminal')
  })

  test('a dead tunnel host makes an answering server error "tunnel down", with its counts', async () => {
    const status = await probe(server.key, true)
    assert.deepEqual({ ...status, version: undefined }, { status: 'error', reason: 'tunnel down', runningJobs: 0, terminals: 0, version: undefined })
  })

  test('a server that refuses the key is error "server refused the API key", not idle', async () => {
    const status = await probe('not-the-key')
    assert.deepEqual(status, { status: 'error', runningJobs: 0, terminals: 0, reason: 'server refused the API key' })
  })

  test('a server that does not answer is error "server not answering"', async () => {
    const url = server.url
    await server.close()
    const status = await probeServer(`${url}/health`, () => server.key, () => false)
    assert.deepEqual(status, { status: 'error', runningJobs: 0, terminals: 0, reason: 'server not answering' })
  })
})
