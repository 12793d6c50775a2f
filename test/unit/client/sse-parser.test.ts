import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseSse, type SseMessage } from '../../../src/client/sse-parser.js'

async function parse (chunks: string[]): Promise<SseMessage[]> {
  async function * body (): AsyncGenerator<Uint8Array> { for (const c of chunks) yield Buffer.from(c) }
  const messages: SseMessage[] = []
  for await (const m of parseSse(body())) messages.push(m)
  return messages
}

test('events split anywhere across chunks, with CRLF or LF, comments and multi-line data, parse the same', async () => {
  const text = ': keep-alive\r\n\r\nid: 1.0.1\r\nevent: status\r\ndata: {"a":1}\r\n\r\nid: 2.0.1\nevent: output\ndata: line one\ndata: line two\n\n'
  const expected = [
    { id: '1.0.1', event: 'status', data: '{"a":1}' },
    { id: '2.0.1', event: 'output', data: 'line one\nline two' },
  ]
  for (let cut = 0; cut <= text.length; cut++) {
    assert.deepEqual(await parse([text.slice(0, cut), text.slice(cut)]), expected, `cut at ${cut}`)
  }
})

test('a multi-byte character split between chunks is decoded whole', async () => {
  const bytes = Buffer.from('data: €\n\n')
  async function * body (): AsyncGenerator<Uint8Array> { yield bytes.subarray(0, 7); yield bytes.subarray(7) }
  const messages: SseMessage[] = []
  for await (const m of parseSse(body())) messages.push(m)
  assert.deepEqual(messages, [{ id: undefined, event: 'message', data: '€' }])
})
