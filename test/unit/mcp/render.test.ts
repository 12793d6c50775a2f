import assert from 'node:assert/strict'
import { test } from 'node:test'
import { capForModel, MODEL_HEAD_BYTES, MODEL_TAIL_BYTES } from '../../../src/mcp/render.js'
import { countOccurrences, replacementDiff } from '../../../src/mcp/edit.js'
import { SessionEventStore } from '../../../src/mcp/event-store.js'

test('short output is kept whole', () => {
  assert.deepEqual(capForModel('hello\n'), { text: 'hello\n', omittedBytes: 0 })
})

test('long output keeps its head and tail and counts the bytes between', () => {
  const text = 'h'.repeat(MODEL_HEAD_BYTES) + 'm'.repeat(1000) + 't'.repeat(MODEL_TAIL_BYTES)
  const cut = capForModel(text)
  assert.equal(cut.omittedBytes, 1000)
  assert.ok(cut.text.startsWith('h'.repeat(MODEL_HEAD_BYTES) + '\n[… 1000 bytes omitted …]\n'))
  assert.ok(cut.text.endsWith('t'.repeat(MODEL_TAIL_BYTES)))
  assert.ok(!cut.text.includes('mm'))
})

test('bytes the server already left out of an inline tail are counted too', () => {
  assert.deepEqual(capForModel('end\n', 104), { text: '[… 100 earlier bytes omitted …]\nend\n', omittedBytes: 100 })
})

test('counts non-overlapping occurrences and finds the first', () => {
  assert.deepEqual(countOccurrences('a-b-a-b', 'a'), { first: 0, count: 2 })
  assert.deepEqual(countOccurrences('aaa', 'aa'), { first: 0, count: 1 })
  assert.deepEqual(countOccurrences('xyz', 'q'), { first: -1, count: 0 })
})

test('the diff of a replacement shows whole old and new lines with context', () => {
  const before = 'one\ntwo\nthree\nfour\nfive\n'
  const diff = replacementDiff(before, before.indexOf('wo'), 'wo\nthr', 'WO\nTHR')
  assert.equal(diff, '@@ -2,2 +2,2 @@\n one\n-two\n-three\n+tWO\n+THRee\n four\n five')
})

test('the event store replays only the events after the given id, of the same stream', async () => {
  const store = new SessionEventStore()
  const message = (id: number): any => ({ jsonrpc: '2.0', id, result: {} })
  const first = await store.storeEvent('a', message(1))
  await store.storeEvent('b', message(2))
  const third = await store.storeEvent('a', message(3))
  const replayed: string[] = []
  const stream = await store.replayEventsAfter(first, { send: async (id) => { replayed.push(id) } })
  assert.equal(stream, 'a')
  assert.deepEqual(replayed, [third])
  assert.equal(await store.getStreamIdForEventId('nope'), undefined)
})
