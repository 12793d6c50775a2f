import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { runAcpSession } from '../../src/index.js'
import { agentArgv, assertNoProcesses, marker, MISBEHAVING_AGENT } from '../helpers/acp.js'
import { processesMatching } from '../helpers/processes.js'

describe('runAcpSession against a misbehaving raw agent', { concurrency: true }, () => {
  const workdir = mkdtempSync(join(tmpdir(), 'acp-raw-'))
  after(() => rmSync(workdir, { recursive: true, force: true }))

  test('stdout noise, an early update, an unknown update kind, an orphan tool update and an odd stop reason are all survived', async () => {
    const m = marker()
    const result = await runAcpSession({ agent: agentArgv(MISBEHAVING_AGENT, 'noise', m), workdir, prompt: 'go' })
    assert.equal(result.error, null)
    assert.equal(result.stopReason, 'error', 'an unknown stop reason is kept as sent')
    assert.equal(result.sessionId, 'raw-session')
    assert.equal(result.outputText, 'early partial', 'the update sent before the session/new answer is kept')
    const unknown = result.events.find((e) => e.type === 'unknown_update')
    assert.deepEqual(unknown?.data, { sessionUpdate: 'agent_error', message: 'something odd' })
    assert.deepEqual(result.toolCalls, [{ toolCallId: 'orphan', status: 'completed' }])
    await assertNoProcesses(m)
  })

  test('an agent that exits mid-turn is reported at once with its exit code and stderr', async () => {
    const m = marker()
    const result = await runAcpSession({ agent: agentArgv(MISBEHAVING_AGENT, 'exit', m), workdir, prompt: 'go', timeoutMs: 60_000 })
    assert.equal(result.stopReason, 'error')
    assert.equal(result.outputText, 'partial')
    assert.equal(result.error, 'the agent exited with code 3 during session/prompt; stderr: fatal: the model went away')
    assert.equal(result.timeout, null, 'reported by the exit, not by a late timeout')
    await assertNoProcesses(m)
  })

  test('an agent that never answers and ignores cancel and SIGTERM is killed with its whole group after the grace', async () => {
    const m = marker()
    const result = await runAcpSession({ agent: agentArgv(MISBEHAVING_AGENT, 'silent', m), workdir, prompt: 'go', timeoutMs: 500, cancelGraceMs: 300 })
    assert.equal(result.stopReason, 'timeout')
    assert.equal(result.error, 'timed out after 0.5 s')
    assert.deepEqual(result.events.filter((e) => e.type === 'cancel').length, 1)
    assert.deepEqual(processesMatching(m), [], 'the agent and its sleeping child are gone when the run returns')
  })

  test('a flood of stderr is drained (no pipe deadlock) and only its tail is kept', async () => {
    const m = marker()
    let streamed = 0
    const result = await runAcpSession({ agent: agentArgv(MISBEHAVING_AGENT, 'flood', m), workdir, prompt: 'go', onStderr: (chunk) => { streamed += chunk.length } })
    assert.equal(result.error, null)
    assert.equal(result.stopReason, 'end_turn')
    assert.equal(streamed, 4 * 1024 * 1024)
    assert.ok(result.stderr.length <= 64 * 1024 && result.stderr.length > 60 * 1024, String(result.stderr.length))
    await assertNoProcesses(m)
  })
})
