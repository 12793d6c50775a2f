import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { runAcpSession, type AcpEvent } from '../../src/index.js'
import { agentArgv, assertNoProcesses, EXAMPLE_AGENT, marker } from '../helpers/acp.js'

// The text the SDK example agent sends, in order (it waits about 1 s between steps).
const FIRST = "I'll help you with that. Let me start by reading some files to understand the current situation."
const SECOND = ' Now I understand the project structure. I need to make some changes to improve it.'
const ALLOWED = " Perfect! I've successfully updated the configuration. The changes have been applied."
const REJECTED = " I understand you prefer not to make that change. I'll skip the configuration update."

describe('runAcpSession against the SDK example agent', { concurrency: true }, () => {
  const workdir = mkdtempSync(join(tmpdir(), 'acp-example-'))
  after(() => rmSync(workdir, { recursive: true, force: true }))

  test('allow-all: the whole turn is recorded as sent, and the agent process is gone afterwards', async () => {
    const m = marker()
    const live: string[] = []
    const result = await runAcpSession({
      agent: agentArgv(EXAMPLE_AGENT, m), prompt: 'hello', workdir, permissionPolicy: 'allow-all', onEvent: (e) => live.push(e.type),
    })
    assert.equal(result.error, null)
    assert.equal(result.stopReason, 'end_turn')
    assert.match(result.sessionId ?? '', /^[0-9a-f]{32}$/)
    assert.equal(result.outputText, FIRST + SECOND + ALLOWED)
    assert.deepEqual(result.toolCalls.map((c) => [c.toolCallId, c.kind, c.status]), [['call_1', 'read', 'completed'], ['call_2', 'edit', 'completed']])
    assert.deepEqual(result.toolCalls[0]?.locations, [{ path: '/project/README.md' }])
    assert.deepEqual(result.toolCalls[1]?.rawOutput, { success: true, message: 'Configuration updated' })
    const permission = result.events.find((e) => e.type === 'permission') as AcpEvent
    assert.deepEqual({ ...permission.data, reason: undefined }, {
      requestId: 'perm-1', toolCallId: 'call_2', title: 'Modifying critical configuration file', kind: 'edit', policy: 'allow-all', decision: 'allow', optionId: 'allow', reason: undefined,
    })
    assert.deepEqual(live, result.events.map((e) => e.type))
    assert.deepEqual(live, ['initialize', 'session', 'message', 'tool_call', 'tool_call_update', 'message', 'tool_call', 'permission', 'tool_call_update', 'message', 'stop'])
    await assertNoProcesses(m)
  })

  test('workdir policy rejects the edit outside the workdir with the reject option; the call stays pending', async () => {
    const m = marker()
    const result = await runAcpSession({ agent: agentArgv(EXAMPLE_AGENT, m), prompt: 'hello', workdir })
    assert.equal(result.stopReason, 'end_turn')
    assert.equal(result.outputText, FIRST + SECOND + REJECTED)
    const permission = result.events.find((e) => e.type === 'permission') as AcpEvent
    assert.equal(permission.data.decision, 'reject')
    assert.equal(permission.data.optionId, 'reject')
    assert.match(permission.data.reason as string, /path outside the workdir: \/home\/user\/project\/config.json/)
    assert.deepEqual(result.toolCalls.map((c) => c.status), ['completed', 'pending'])
    await assertNoProcesses(m)
  })

  test('cancel mid-turn: session/cancel ends the turn as cancelled and keeps what was sent so far', async () => {
    const m = marker()
    const abort = new AbortController()
    const result = await runAcpSession({
      agent: agentArgv(EXAMPLE_AGENT, m),
      prompt: 'hello',
      workdir,
      signal: abort.signal,
      onEvent: (e) => { if (e.type === 'tool_call') abort.abort() },
    })
    assert.equal(result.stopReason, 'cancelled')
    assert.equal(result.aborted, true)
    assert.equal(result.error, null, 'the agent stopped by itself within the grace')
    assert.equal(result.outputText, FIRST)
    assert.deepEqual(result.toolCalls.map((c) => [c.toolCallId, c.status]), [['call_1', 'pending']])
    assert.deepEqual(result.events.slice(-2).map((e) => e.type), ['cancel', 'stop'])
    await assertNoProcesses(m)
  })

  test('timeout: the turn is cancelled, the stop reason is timeout and the partial text is kept', async () => {
    const m = marker()
    // Why 3.5 s: the limit counts the agent's start-up too (over 1.5 s on a loaded CI machine), and
    // the example agent's turn lasts over 4 s after its first words, so the limit still ends it.
    const result = await runAcpSession({ agent: agentArgv(EXAMPLE_AGENT, m), prompt: 'hello', workdir, timeoutMs: 3500 })
    assert.equal(result.stopReason, 'timeout')
    assert.equal(result.timeout, 'total')
    assert.equal(result.error, 'timed out after 3.5 s')
    assert.ok(result.outputText.startsWith(FIRST), result.outputText)
    assert.ok(result.events.some((e) => e.type === 'cancel'))
    await assertNoProcesses(m)
  })

  test('an already aborted signal never starts a turn, and nothing is left running', async () => {
    const m = marker()
    const abort = new AbortController()
    abort.abort()
    const result = await runAcpSession({ agent: agentArgv(EXAMPLE_AGENT, m), prompt: 'hello', workdir, signal: abort.signal })
    assert.equal(result.stopReason, 'cancelled')
    assert.equal(result.outputText, '')
    await assertNoProcesses(m)
  })
})
