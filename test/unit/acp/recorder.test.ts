import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SessionRecorder } from '../../../src/acp/recorder.js'
import type { AcpEvent } from '../../../src/acp/types.js'

test('text comes only from agent message chunks; replayed history is recorded as replay and not counted', () => {
  const seen: AcpEvent[] = []
  const recorder = new SessionRecorder((e) => seen.push(e))
  recorder.update({ sessionUpdate: 'agent_message_chunk', content: { type: 'text', text: 'old' } }, true)
  recorder.update({ sessionUpdate: 'agent_message_chunk', content: { type: 'text', text: 'new ' } }, false)
  recorder.update({ sessionUpdate: 'agent_thought_chunk', content: { type: 'text', text: 'hmm' } }, false)
  recorder.update({ sessionUpdate: 'agent_message_chunk', content: { type: 'image', data: 'AA==', mimeType: 'image/png' } }, false)
  recorder.update({ sessionUpdate: 'agent_message_chunk', content: { type: 'text', text: 'text' } }, false)
  assert.equal(recorder.outputText, 'new text')
  assert.deepEqual(seen.map((e) => e.type), ['replay', 'message', 'thought', 'message', 'message'])
  assert.deepEqual(recorder.events, seen)
})

test('tool calls are merged by id: updates replace the fields they carry, a permission request only creates', () => {
  const recorder = new SessionRecorder()
  recorder.update({ sessionUpdate: 'tool_call_update', toolCallId: 'early', status: 'in_progress' }, false)
  recorder.update({ sessionUpdate: 'tool_call', toolCallId: 'a', title: 'Edit', kind: 'edit', status: 'pending', locations: [{ path: '/w/x' }] }, false)
  recorder.mergeToolCall({ toolCallId: 'a', title: 'Edit (asked)', locations: [{ path: '/elsewhere' }] }, false)
  recorder.mergeToolCall({ toolCallId: 'b', title: 'Only asked', kind: 'delete' }, false)
  recorder.update({ sessionUpdate: 'tool_call_update', toolCallId: 'a', status: 'completed', content: [] }, false)
  assert.deepEqual(recorder.toolCalls, [
    { toolCallId: 'early', status: 'in_progress' },
    { toolCallId: 'a', title: 'Edit', kind: 'edit', status: 'completed', locations: [{ path: '/w/x' }], content: [] },
    { toolCallId: 'b', title: 'Only asked', kind: 'delete' },
  ])
})

test('only the latest events are kept in memory; each is still handed on', () => {
  let handed = 0
  const recorder = new SessionRecorder(() => { handed++ }, 3)
  for (let i = 0; i < 5; i++) recorder.record('x', { i })
  assert.equal(handed, 5)
  assert.deepEqual(recorder.events.map((e) => e.data.i), [2, 3, 4])
})
