import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { agentArgv, assertNoProcesses, marker, SCRIPTED_AGENT } from '../helpers/acp.js'
import { startServer, type TestServer } from '../helpers/server.js'

/** An agent command line for POST /exec (the marker makes its processes findable). */
const commandLine = (...args: string[]): string => agentArgv(SCRIPTED_AGENT, ...args).map((a) => `'${a}'`).join(' ')

describe('ACP jobs over HTTP: agents by name, usage, transcript, capability switches', { concurrency: true }, () => {
  let server: TestServer
  const workdir = mkdtempSync(join(tmpdir(), 'acp-policy-jobs-'))
  const m = marker()
  before(async () => { server = await startServer({ acpAgents: JSON.stringify({ scripted: commandLine(m) }) }) })
  after(async () => {
    await server.close()
    rmSync(workdir, { recursive: true, force: true })
    await assertNoProcesses(m)
  })

  test('an agent named in --acp-agents runs its command line; usage is in the job view; the transcript is served like stdout', async () => {
    const usage = { inputTokens: 10, outputTokens: 2, totalTokens: 12 }
    const id = await server.submit({ mode: 'acp', workdir, agent: 'scripted', prompt: JSON.stringify([{ usage }, { say: 'hi' }]), transcript: true })
    const job = await server.finished(id)
    assert.equal(job.status, 'completed', JSON.stringify(job))
    assert.equal(job.command, '[acp] scripted')
    assert.equal(job.stdout, 'hi')
    assert.deepEqual(job.usage, usage)
    assert.deepEqual(job.events.at(-1).data, { stopReason: 'end_turn', usage })

    const raw = await fetch(`${server.url}/jobs/${id}/transcript`, { headers: { 'x-api-key': server.key } })
    assert.equal(raw.status, 200)
    const lines = (await raw.text()).trim().split('\n').map((l) => JSON.parse(l))
    assert.deepEqual(lines.slice(0, 2).map((l) => [l.from, l.message.method ?? 'result']), [['client', 'initialize'], ['agent', 'result']])
    assert.ok(lines.every((l) => typeof l.at === 'number' && l.message.jsonrpc === '2.0'))
    assert.deepEqual(lines.at(-1).message.result, { stopReason: 'end_turn', usage })

    const tail = await fetch(`${server.url}/jobs/${id}/transcript`, { headers: { 'x-api-key': server.key, range: 'bytes=-10' } })
    assert.equal(tail.status, 206)
  })

  test('without transcript: true there is no transcript (an empty body); capabilities reach the agent', async () => {
    const id = await server.submit({ mode: 'acp', workdir, agent: 'scripted', prompt: JSON.stringify([{ capabilities: true }]), capabilities: { fs: false, terminal: false } })
    const job = await server.finished(id)
    assert.equal(job.status, 'completed', JSON.stringify(job))
    const advertised = JSON.parse(job.stdout)
    assert.deepEqual([advertised.fs, advertised.terminal], [{ readTextFile: false, writeTextFile: false }, false])
    assert.equal('usage' in job, false)
    const raw = await fetch(`${server.url}/jobs/${id}/transcript`, { headers: { 'x-api-key': server.key } })
    assert.equal(raw.status, 200)
    assert.equal(await raw.text(), '')
  })

  test('a bad rule policy is a 400 with a clear message', async () => {
    const { status, body } = await server.api('POST', '/exec', { mode: 'acp', permissionPolicy: { autoApprove: ['read'], defaultAction: 'sure' } })
    assert.equal(status, 400)
    assert.deepEqual(body, { error: 'permissionPolicy.defaultAction must be one of allow, deny, ask', code: 'INVALID_REQUEST' })
  })
})
