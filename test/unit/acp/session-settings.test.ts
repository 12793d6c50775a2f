import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { SessionConfigOption } from '@agentclientprotocol/sdk'
import { SettingError, settingRequests } from '../../../src/acp/session-settings.js'

const configOptions: SessionConfigOption[] = [
  { id: 'model', name: 'Model', category: 'model', type: 'select', currentValue: 'fast', options: [{ value: 'fast', name: 'F' }, { value: 'smart', name: 'S' }] },
  { id: 'effort-level', name: 'Effort', category: 'thought_level', type: 'select', currentValue: 'low', options: [{ group: 'g', name: 'G', options: [{ value: 'low', name: 'L' }, { value: 'high', name: 'H' }] }] },
  { id: 'agent-mode', name: 'Mode', category: 'mode', type: 'select', currentValue: 'ask', options: [{ value: 'ask', name: 'A' }, { value: 'code', name: 'C' }] },
]
const legacy = {
  models: { currentModelId: 'fast', availableModels: [{ modelId: 'fast' }, { modelId: 'smart' }] },
  modes: { currentModeId: 'ask', availableModes: [{ id: 'ask', name: 'A' }, { id: 'code', name: 'C' }] },
}

test('config options are preferred and found by category; values already current need no request', () => {
  assert.deepEqual(settingRequests({ configOptions, ...legacy }, { model: 'smart', effort: 'high', mode: 'ask' }), [
    { setting: 'model', method: 'session/set_config_option', params: { configId: 'model', value: 'smart' } },
    { setting: 'effort', method: 'session/set_config_option', params: { configId: 'effort-level', value: 'high' } },
  ])
})

test('without config options, the legacy session/set_model and session/set_mode are used', () => {
  assert.deepEqual(settingRequests(legacy, { model: 'smart', mode: 'code' }), [
    { setting: 'model', method: 'session/set_model', params: { modelId: 'smart' } },
    { setting: 'mode', method: 'session/set_mode', params: { modeId: 'code' } },
  ])
})

test('a value the agent does not offer, or a setting it has no way to change, is a clear error', () => {
  assert.throws(() => settingRequests({ configOptions }, { model: 'huge' }), (err: Error) => err instanceof SettingError && /does not offer model "huge" \(it offers: fast, smart\)/.test(err.message))
  assert.throws(() => settingRequests(legacy, { effort: 'high' }), /offers no way to choose the effort/)
  assert.throws(() => settingRequests({}, { mode: 'plan' }), /offers no way to choose the mode/)
  assert.deepEqual(settingRequests({}, { model: null, effort: '', mode: undefined }), [])
})
