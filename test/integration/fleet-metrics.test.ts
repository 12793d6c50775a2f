import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { after, describe, test } from 'node:test'
import { agentArgv, marker, SCRIPTED_AGENT } from '../helpers/acp.js'
import { call, spawnServer, type ServerProcess } from '../helpers/cli-process.js'
import { makeStateDir } from '../helpers/server.js'
import { TerminalClient } from '../helpers/terminal.js'
import { waitFor } from '../helpers/wait.js'

const dir = makeStateDir()
let server: ServerProcess | undefined
after(async () => {
  await server?.stop()
  rmSync(dir, { recursive: true, force: true })
})

// The Prometheus text exposition format: comments, or `name{labels} value`.
const SAMPLE = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/

async function scrape (s: ServerProcess, headers: Record<string, string> = { authorization: `Bearer ${s.key}` }): Promise<{ status: number, type: string | null, text: string }> {
  const response = await fetch(`${s.url}/metrics`, { headers })
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() }
}

function sample (text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name} `)))
  return line === undefined ? 0 : Number(line.split(' ').at(-1))
}

describe('GET /metrics', () => {
  test('it needs the API key (Bearer works for scrapers), parses as Prometheus text, and its counters move when jobs run', async () => {
    server = await spawnServer(dir)
    assert.equal((await scrape(server, {})).status, 401)
    const before = await scrape(server)
    assert.equal(before.status, 200)
    assert.match(before.type ?? '', /^text\/plain; version=0\.0\.4/)
    for (const line of before.text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue
      assert.match(line, SAMPLE)
    }
    for (const name of ['agent_runtime_jobs_running', 'agent_runtime_jobs_pending', 'agent_runtime_terminals', 'agent_runtime_process_cpu_seconds_total']) {
      assert.ok(before.text.includes(`\n${name} `) || before.text.startsWith(`${name} `) || before.text.includes(`# TYPE ${name} `), name)
    }
    const completed = '{mode="shell",status="completed"}'
    const failed = '{mode="shell",status="failed"}'
    const job = await call(server, 'POST', '/exec', { command: 'printf 12345' })
    const bad = await call(server, 'POST', '/exec', { command: 'exit 3' })
    await call(server, 'GET', `/jobs/${job.body.jobId}?wait=30`)
    await call(server, 'GET', `/jobs/${bad.body.jobId}?wait=30`)
    const s = server
    const after = await waitFor(async () => {
      const text = (await scrape(s)).text
      return sample(text, 'agent_runtime_jobs_finished_total', failed) >= 1 && sample(text, 'agent_runtime_jobs_finished_total', completed) >= 1 ? text : undefined
    }, 'the finished counters to move', 30_000)
    assert.equal(sample(after, 'agent_runtime_jobs_submitted_total', '{mode="shell"}'), 2)
    assert.equal(sample(after, 'agent_runtime_job_output_bytes_total', '{mode="shell",stream="stdout"}'), 5)
    assert.equal(sample(after, 'agent_runtime_job_duration_seconds_count', completed), 1)
    assert.equal(sample(after, 'agent_runtime_job_start_latency_seconds_count', '{mode="shell"}'), 2)
    assert.ok(sample(after, 'agent_runtime_auth_failures_total') >= 1)
    assert.ok(after.includes('agent_runtime_http_request_duration_seconds_count{method="GET",route="/jobs/:id",status="200"}'))
  })

  test('a job submitted with ?stream=sse is counted like any other', async () => {
    const s = server ?? (server = await spawnServer(dir))
    const submittedBefore = sample((await scrape(s)).text, 'agent_runtime_jobs_submitted_total', '{mode="shell"}')
    const response = await fetch(`${s.url}/exec?stream=sse`, {
      method: 'POST',
      headers: { 'x-api-key': s.key, 'content-type': 'application/json' },
      body: JSON.stringify({ command: 'true' }),
    })
    assert.equal(response.status, 200)
    await response.text()
    assert.equal(sample((await scrape(s)).text, 'agent_runtime_jobs_submitted_total', '{mode="shell"}'), submittedBefore + 1)
  })

  test('ACP runs are counted by final status, and their permission decisions by decision', async () => {
    const s = server as ServerProcess
    const agent = agentArgv(SCRIPTED_AGENT, marker()).map((a) => `'${a}'`).join(' ')
    const job = await call(s, 'POST', '/exec', {
      mode: 'acp',
      workdir: dir,
      agent,
      prompt: JSON.stringify([{ permission: { toolCallId: 'r1', title: 'Read passwd', kind: 'read', locations: [{ path: '/etc/passwd' }] } }]),
    })
    assert.equal(job.status, 202, JSON.stringify(job.body))
    const text = await waitFor(async () => {
      const scraped = (await scrape(s)).text
      return sample(scraped, 'agent_runtime_acp_permission_decisions_total', '{decision="reject"}') === 1 ? scraped : undefined
    }, 'the permission decision to be counted', 60_000)
    assert.equal(sample(text, 'agent_runtime_jobs_finished_total', '{mode="acp",status="completed"}'), 1)
    assert.equal(sample(text, 'agent_runtime_jobs_submitted_total', '{mode="acp"}'), 1)
  })

  test('the terminals and terminal-clients gauges follow a terminal: opened, watched twice, left, reattached, ended', async () => {
    const s = server ?? (server = await spawnServer(dir))
    const gauges = async (): Promise<[number, number]> => {
      const text = (await scrape(s)).text
      return [sample(text, 'agent_runtime_terminals'), sample(text, 'agent_runtime_terminal_clients')]
    }
    const reach = async (expected: [number, number], what: string): Promise<void> => {
      let last: [number, number] | undefined
      await waitFor(async () => { last = await gauges(); return last[0] === expected[0] && last[1] === expected[1] }, `${what} (last [terminals, clients]: ${JSON.stringify(last)})`, 30_000)
    }
    const open = async (query: string): Promise<TerminalClient> => {
      const client = await TerminalClient.open(`${s.url.replace(/^http/, 'ws')}/terminal?${query}`, { 'x-api-key': s.key })
      assert.equal(client.refused, undefined, JSON.stringify(client.refused))
      return client
    }
    assert.deepEqual(await gauges(), [0, 0])
    const owner = await open('shell=/bin/bash')
    const id = await owner.sessionId()
    await reach([1, 1], 'one terminal with one client')
    const viewer = await open(`session=${encodeURIComponent(id)}`)
    await viewer.sessionId()
    await reach([1, 2], 'a second client on the same terminal')
    viewer.close()
    await viewer.closed
    await reach([1, 1], 'back to one client')
    owner.close()
    await owner.closed
    await reach([1, 0], 'an orphaned terminal without clients')
    const again = await open(`session=${encodeURIComponent(id)}`)
    await again.sessionId()
    await reach([1, 1], 'the terminal reattached')
    again.type('exit\r')
    await again.closed
    await reach([0, 0], 'no terminal after its shell exited')
  })
})
