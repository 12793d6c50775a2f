import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { runAcpSession, type AcpResult, type RunAcpOptions } from '../../src/index.js'
import { agentArgv, assertNoProcesses, marker, SCRIPTED_AGENT } from '../helpers/acp.js'

/** The JSON lines the scripted agent sent back, one per step result. */
const results = (result: AcpResult): any[] => result.outputText.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l))
const eventsOf = (result: AcpResult, type: string): Array<Record<string, unknown>> => result.events.filter((e) => e.type === type).map((e) => e.data)

describe('ACP runs: policies that hold, capability switches, what is recorded', { concurrency: true }, () => {
  const top = realpathSync(mkdtempSync(join(tmpdir(), 'acp-policy-')))
  const workdir = join(top, 'work')
  mkdirSync(workdir)
  writeFileSync(join(workdir, 'notes.txt'), 'hello\n')
  after(() => rmSync(top, { recursive: true, force: true }))

  const run = async (steps: unknown[], options: RunAcpOptions = {}): Promise<AcpResult> => {
    const m = marker()
    const result = await runAcpSession({ agent: agentArgv(SCRIPTED_AGENT, m), workdir, prompt: JSON.stringify(steps), cancelGraceMs: 1000, ...options })
    await assertNoProcesses(m)
    return result
  }

  test('an agent that starts in an auto-approving mode is switched to its asking mode under workdir, and the event says why', async () => {
    const result = await run([{ settings: true }], { env: { FAKE_ACP_MODES: 'auto,default,acceptEdits' } })
    assert.equal(result.error, null)
    assert.deepEqual(eventsOf(result, 'permission_mode'), [{
      modeId: 'default',
      previousModeId: 'auto',
      changed: true,
      reason: 'mode "auto" approves by itself; mode "default" asks, so the workdir policy holds',
    }])
    assert.deepEqual(eventsOf(result, 'setting'), [{ setting: 'mode', method: 'session/set_mode', modeId: 'default' }])
    assert.equal(results(result)[0].mode, 'default')
  })

  test('allow-all leaves the auto-approving mode alone; an explicit auto-approving mode wins under workdir, with a warning', async () => {
    const allowAll = await run([{ settings: true }], { env: { FAKE_ACP_MODES: 'auto,default' }, permissionPolicy: 'allow-all' })
    assert.deepEqual(eventsOf(allowAll, 'permission_mode'), [])
    assert.equal(results(allowAll)[0].mode, 'auto')

    const explicit = await run([{ settings: true }], { env: { FAKE_ACP_MODES: 'default,acceptEdits' }, mode: 'acceptEdits' })
    assert.equal(explicit.error, null)
    assert.equal(results(explicit)[0].mode, 'acceptEdits')
    const [warning] = eventsOf(explicit, 'warning')
    assert.equal(warning?.code, 'auto_approving_mode')
    assert.match(warning?.message as string, /mode "acceptEdits" lets the agent act without asking; the workdir policy only sees what it still asks/)
  })

  test('an agent that offers no asking mode gets a policy_not_enforceable warning; an asking current mode is kept and said so', async () => {
    const yolo = await run([{ settings: true }], { env: { FAKE_ACP_MODES: 'yolo,plan' }, permissionPolicy: 'read-only' })
    assert.equal(yolo.error, null)
    assert.equal(results(yolo)[0].mode, 'yolo')
    const [warning] = eventsOf(yolo, 'warning')
    assert.equal(warning?.code, 'policy_not_enforceable')
    assert.equal(warning?.policy, 'read-only')
    assert.match(warning?.message as string, /starts in mode "yolo", which approves by itself, and offers no mode that asks \(it offers: yolo, plan\)/)

    const asking = await run([], { env: { FAKE_ACP_MODES: 'default,yolo' } })
    assert.deepEqual(eventsOf(asking, 'permission_mode').map((e) => [e.modeId, e.changed]), [['default', false]])
    assert.deepEqual(eventsOf(asking, 'setting'), [])
  })

  test('a rule policy answers by kind and tool name, and still rejects paths outside the workdir', async () => {
    const result = await run([{
      permission: [
        { toolCallId: 'a', title: 'Read notes', kind: 'read', locations: [{ path: join(workdir, 'notes.txt') }] },
        { toolCallId: 'b', title: 'Bash', kind: 'execute', rawInput: { command: 'ls' } },
        { toolCallId: 'c', title: 'Bash', kind: 'execute', rawInput: { command: 'rm -rf x' }, _meta: { claudeCode: { toolName: 'DangerTool' } } },
        { toolCallId: 'd', title: 'Read secret', kind: 'read', locations: [{ path: '/etc/passwd' }] },
        { toolCallId: 'e', title: 'Fetch', kind: 'fetch' },
      ],
    }], { permissionPolicy: { autoApprove: ['read', 'Bash'], autoDeny: ['DangerTool'], defaultAction: 'deny' } })
    assert.equal(result.error, null)
    assert.deepEqual(results(result)[0].map((o: any) => o.optionId), ['yes', 'yes', 'no', 'no', 'no'])
    const permissions = eventsOf(result, 'permission')
    assert.ok(permissions.every((p) => p.policy === 'rules'))
    assert.deepEqual(permissions.map((p) => p.reason), [
      'rule autoApprove "read"',
      'rule autoApprove "Bash"',
      'rule autoDeny "DangerTool"',
      'path outside the workdir: /etc/passwd',
      'no rule matches kind fetch; defaultAction deny',
    ])
  })

  test('fs: false is not advertised and fs requests are refused; terminal: false likewise', async () => {
    const noFs = await run([{ capabilities: true }, { read: { path: join(workdir, 'notes.txt') } }, { terminal: { create: { command: 'echo hi' } } }], { capabilities: { fs: false } })
    assert.equal(noFs.error, null)
    const [advertised, read, terminal] = results(noFs)
    // (The agent's SDK fills in the schema's defaults: what is not advertised reads false.)
    assert.equal(advertised.terminal, true)
    assert.deepEqual(advertised.fs, { readTextFile: false, writeTextFile: false })
    assert.equal(read.error.code, -32601)
    assert.deepEqual(terminal.exit, { exitCode: 0, signal: null })
    assert.match(eventsOf(noFs, 'file_read')[0]?.error as string, /Method not found/)

    const noTerminal = await run([{ capabilities: true }, { terminal: { create: { command: 'echo hi' } } }], { capabilities: { terminal: false } })
    const [caps, created] = results(noTerminal)
    assert.equal(caps.terminal, false)
    assert.deepEqual(caps.fs, { readTextFile: true, writeTextFile: true })
    assert.equal(created.error.code, -32601)

    const both = await run([{ capabilities: true }])
    assert.equal(results(both)[0].terminal, true)
    assert.deepEqual(results(both)[0].fs, { readTextFile: true, writeTextFile: true })
  })

  test('the prompt response\'s usage is on the stop event and in the result', async () => {
    const usage = { inputTokens: 120, outputTokens: 34, totalTokens: 154 }
    const result = await run([{ usage }, { say: 'done' }])
    assert.equal(result.error, null)
    assert.deepEqual(result.usage, usage)
    assert.deepEqual(eventsOf(result, 'stop'), [{ stopReason: 'end_turn', usage }])
    const without = await run([])
    assert.equal(without.usage, null)
    assert.deepEqual(eventsOf(without, 'stop'), [{ stopReason: 'end_turn' }])
  })

  test('the configOptions that session/set_config_option answers are recorded on the setting event', async () => {
    const result = await run([], { env: { FAKE_ACP_CONFIG: 'options' }, model: 'smart' })
    assert.equal(result.error, null)
    const [setting] = eventsOf(result, 'setting')
    assert.equal(setting?.configId, 'model')
    const options = setting?.configOptions as Array<{ id: string, currentValue: string }>
    assert.deepEqual(options.map((o) => [o.id, o.currentValue]), [['model', 'smart'], ['reasoning_effort', 'low'], ['mode', 'ask']])
  })

  test('an error without details carries the end of the agent\'s stderr', async () => {
    const result = await run([{ stderr: 'loading model\nquota exceeded for key sk-…\n' }, { sleep: 200 }, { fail: true }])
    assert.equal(result.stopReason, 'error')
    assert.equal(result.error, 'session/prompt failed: Internal error (code -32603); the agent\'s stderr ends with: loading model\nquota exceeded for key sk-…')
  })

  test('a cancel before the prompt is sent says so, not that the agent failed to stop', async () => {
    const abort = new AbortController()
    const result = await run([{ say: 'never' }], {
      signal: abort.signal,
      onEvent: (event) => { if (event.type === 'initialize') abort.abort() },
    })
    assert.equal(result.stopReason, 'cancelled')
    assert.equal(result.aborted, true)
    assert.equal(result.error, 'cancelled before the prompt was sent; the agent was stopped')
    assert.equal(result.outputText, '')
  })

  test('onTranscript sees every JSON-RPC message in both directions, in order', async () => {
    const seen: Array<[string, any]> = []
    const result = await run([{ say: 'hi' }], { onTranscript: (from, message) => seen.push([from, message]) })
    assert.equal(result.error, null)
    const methods = seen.map(([from, m]) => `${from}:${m.method ?? (m.result !== undefined ? 'result' : 'error')}`)
    assert.deepEqual(methods, ['client:initialize', 'agent:result', 'client:session/new', 'agent:result', 'client:session/prompt', 'agent:session/update', 'agent:result'])
    assert.equal(seen[4]?.[1].params.prompt[0].text, JSON.stringify([{ say: 'hi' }]))
  })
})
