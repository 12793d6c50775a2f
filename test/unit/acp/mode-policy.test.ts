import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { KNOWN_AGENTS } from '../../../src/acp/agent-registry.js'
import { isAutoApprovingMode, planPermissionMode, sessionModes } from '../../../src/acp/mode-policy.js'
import type { SessionSettings } from '../../../src/acp/session-settings.js'

const legacy = (current: string, ...others: string[]): SessionSettings => ({
  modes: { currentModeId: current, availableModes: [current, ...others].map((id) => ({ id, name: id })) },
})
const known = (name: string) => KNOWN_AGENTS.find((a) => a.name === name)
const plan = (session: SessionSettings, extra: Partial<Parameters<typeof planPermissionMode>[0]> = {}) =>
  planPermissionMode({ policy: 'workdir', requested: null, session, agent: undefined, agentName: 'agent-x', ...extra })
const codes = (events: Array<{ data: Record<string, unknown> }>) => events.map((e) => e.data.code ?? null)

describe('choosing a session mode that asks', () => {
  test('auto-approving modes of the known agents are recognised, asking ones are not', () => {
    for (const id of ['auto', 'acceptEdits', 'dontAsk', 'bypassPermissions', 'yolo', 'autoEdit', 'auto-edit', 'full-access']) assert.equal(isAutoApprovingMode(id), true, id)
    for (const id of ['default', 'plan', 'read-only', 'ask', 'code']) assert.equal(isAutoApprovingMode(id), false, id)
  })

  // [what, session, extra input, mode to set, event types, warning codes]
  const table: Array<[string, SessionSettings, Partial<Parameters<typeof planPermissionMode>[0]>, string | null, string[], Array<string | null>]> = [
    ['claude 0.101 starting in auto: default', legacy('auto', 'default', 'acceptEdits', 'plan', 'bypassPermissions'), {}, 'default', ['permission_mode'], [null]],
    ['gemini in yolo: default', legacy('yolo', 'autoEdit', 'plan', 'default'), {}, 'default', ['permission_mode'], [null]],
    ['no default: another mode that is not known to approve (not plan)', legacy('yolo', 'plan', 'careful'), {}, 'careful', ['permission_mode'], [null]],
    ['only auto-approving modes and plan: not enforceable', legacy('yolo', 'plan', 'autoEdit'), {}, null, ['warning'], ['policy_not_enforceable']],
    ['already asking: kept, said so', legacy('default', 'auto'), {}, null, ['permission_mode'], [null]],
    ['allow-all: nothing to do', legacy('auto', 'default'), { policy: 'allow-all' }, null, [], []],
    ['a rule policy counts as not allow-all', legacy('auto', 'default'), { policy: { autoApprove: ['*'], autoDeny: [], defaultAction: 'allow' } }, 'default', ['permission_mode'], [null]],
    ['a requested mode wins, with a warning when it approves by itself', legacy('default', 'auto'), { requested: 'auto' }, null, ['warning'], ['auto_approving_mode']],
    ['a requested asking mode: nothing to say', legacy('auto', 'plan'), { requested: 'plan' }, null, [], []],
    ['no modes at all: nothing to choose', {}, {}, null, [], []],
    ['codex never asks: not enforceable, whatever its mode', legacy('auto', 'read-only'), { agent: known('codex') }, 'read-only', ['warning', 'permission_mode'], ['policy_not_enforceable', null]],
    ['qwen writes without asking: not enforceable for writes', legacy('default', 'yolo'), { agent: known('qwen') }, null, ['warning', 'permission_mode'], ['policy_not_enforceable', null]],
    ['opencode with no modes: not enforceable', {}, { agent: known('opencode') }, null, ['warning'], ['policy_not_enforceable']],
  ]
  for (const [what, session, extra, mode, types, warningCodes] of table) {
    test(what, () => {
      const result = plan(session, extra)
      assert.equal(result.mode, mode)
      assert.deepEqual(result.events.map((e) => e.type), types)
      assert.deepEqual(codes(result.events), warningCodes)
    })
  }

  test('the events say which mode and why', () => {
    assert.deepEqual(plan(legacy('auto', 'default')).events[0], {
      type: 'permission_mode',
      data: { modeId: 'default', previousModeId: 'auto', changed: true, reason: 'mode "auto" approves by itself; mode "default" asks, so the workdir policy holds' },
    })
    const [warning] = plan({}, { agent: known('codex'), agentName: 'codex-acp', policy: 'read-only' }).events
    assert.equal(warning?.data.agent, 'codex-acp')
    assert.match(warning?.data.message as string, /^codex never asks permission before it acts \(measured\); the read-only policy cannot be enforced/)
  })

  test('the modes come from the mode config option first, else the legacy modes', () => {
    const options: SessionSettings = {
      configOptions: [{ id: 'mode', name: 'Mode', category: 'mode', type: 'select', currentValue: 'auto', options: [{ value: 'auto', name: 'Auto' }, { value: 'default', name: 'Default' }] }],
      ...legacy('plan'),
    }
    assert.deepEqual(sessionModes(options), { current: 'auto', available: ['auto', 'default'] })
    assert.deepEqual(sessionModes(legacy('plan', 'default')), { current: 'plan', available: ['plan', 'default'] })
    assert.equal(sessionModes({}), null)
  })
})
