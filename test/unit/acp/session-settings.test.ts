import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { SessionConfigOption } from '@agentclientprotocol/sdk'
import { SettingError, settingRequests, settingWarning } from '../../../src/acp/session-settings.js'

const configOptions: SessionConfigOption[] = [
  { id: 'model', name: 'Model', category: 'model', type: 'select', currentValue: 'fast', options: [{ value: 'fast', name: 'F' }, { value: 'smart', name: 'S' }] },
  { id: 'effort-level', name: 'Effort', category: 'thought_level', type: 'select', currentValue: 'low', options: [{ group: 'g', name: 'G', options: [{ value: 'low', name: 'L' }, { value: 'high', name: 'H' }] }] },
  { id: 'agent-mode', name: 'Mode', category: 'mode', type: 'select', currentValue: 'ask', options: [{ value: 'ask', name: 'A' }, { value: 'code', name: 'C' }] },
]
const legacy = {
  models: { currentModelId: 'fast', availableModels: [{ modelId: 'fast' }, { modelId: 'smart' }] },
  modes: { currentModeId: 'ask', availableModes: [{ id: 'ask', name: 'A' }, { id: 'code', name: 'C' }] },
}
const brief = (requests: ReturnType<typeof settingRequests>): unknown[] => requests.map(({ setting, method, params, optional }) => ({ setting, method, params, optional }))

test('config options are preferred and found by category; values already current need no request', () => {
  assert.deepEqual(brief(settingRequests({ configOptions, ...legacy }, { model: 'smart', effort: 'high', mode: 'ask' })), [
    { setting: 'model', method: 'session/set_config_option', params: { configId: 'model', value: 'smart' }, optional: true },
    { setting: 'effort', method: 'session/set_config_option', params: { configId: 'effort-level', value: 'high' }, optional: true },
  ])
})

test('without config options, the legacy session/set_model and session/set_mode are used', () => {
  assert.deepEqual(brief(settingRequests(legacy, { model: 'smart', mode: 'code' })), [
    { setting: 'model', method: 'session/set_model', params: { modelId: 'smart' }, optional: true },
    { setting: 'mode', method: 'session/set_mode', params: { modeId: 'code' }, optional: false },
  ])
})

test('a model or effort the agent does not advertise is still tried, as an optional request (devpilot ids when no option exists)', () => {
  const huge = settingRequests({ configOptions }, { model: 'huge' })
  assert.deepEqual(brief(huge), [{ setting: 'model', method: 'session/set_config_option', params: { configId: 'model', value: 'huge' }, optional: true }])
  assert.deepEqual(huge[0]?.offered, ['fast', 'smart'])
  assert.deepEqual(brief(settingRequests(legacy, { effort: 'high' })), [
    { setting: 'effort', method: 'session/set_config_option', params: { configId: 'reasoning_effort', value: 'high' }, optional: true },
  ])
  assert.deepEqual(brief(settingRequests({}, { model: 'm' })), [
    { setting: 'model', method: 'session/set_config_option', params: { configId: 'model', value: 'm' }, optional: true },
  ])
  assert.equal(settingWarning(huge[0] as NonNullable<typeof huge[0]>, 'refused'), 'the agent did not take model "huge" (refused; it offers: fast, smart); going on with its current model')
})

test('a mode the agent does not offer, or has no way to change, is a clear error', () => {
  assert.throws(() => settingRequests({ configOptions }, { mode: 'plan' }), (err: Error) => err instanceof SettingError && /does not offer mode "plan" \(it offers: ask, code\)/.test(err.message))
  assert.throws(() => settingRequests(legacy, { mode: 'plan' }), /does not offer mode "plan"/)
  assert.throws(() => settingRequests({}, { mode: 'plan' }), /offers no way to choose the mode/)
  assert.deepEqual(settingRequests({}, { model: null, effort: '', mode: undefined }), [])
})
