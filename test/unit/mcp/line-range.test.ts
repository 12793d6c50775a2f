import assert from 'node:assert/strict'
import { test } from 'node:test'
import { readLineRange } from '../../../src/mcp/line-range.js'

// A text as a stream of chunks of `size` bytes, so lines and characters cross chunk boundaries.
async function * chunksOf (text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text)
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size)
}

test('a line range is the text split on newlines, whatever the chunk size', async () => {
  for (const size of [1, 2, 3, 64]) {
    assert.deepEqual(await readLineRange(chunksOf('one\ntwo\nthree\ntwo\n', size), 2, 3, 1000),
      { content: 'two\nthree', startLine: 2, endLine: 3, cut: false }, `chunks of ${size}`)
    assert.equal((await readLineRange(chunksOf('one\ntwo\n', size), 1, Infinity, 1000)).content, 'one\ntwo\n')
    assert.equal((await readLineRange(chunksOf('é\nàb\n', size), 2, 2, 1000)).content, 'àb')
  }
})

test('a range past the end answers the lines there are and the last line number', async () => {
  assert.deepEqual(await readLineRange(chunksOf('a\nb', 4), 2, 10, 1000), { content: 'b', startLine: 2, endLine: 2, cut: false })
  assert.deepEqual(await readLineRange(chunksOf('a\nb\n', 4), 9, 10, 1000), { content: '', startLine: 9, endLine: 3, cut: false })
})

test('the byte cap ends the content at the last whole line that fits', async () => {
  const text = Array.from({ length: 100 }, (_, i) => `line ${i + 1}`).join('\n')
  const range = await readLineRange(chunksOf(text, 7), 10, 100, 30)
  assert.deepEqual(range, { content: 'line 10\nline 11\nline 12', startLine: 10, endLine: 12, cut: true })
})

test('a first line longer than the cap is cut inside it, at a character boundary', async () => {
  const range = await readLineRange(chunksOf('x\n' + 'é'.repeat(10) + '\nz', 3), 2, 3, 5)
  assert.deepEqual(range, { content: 'éé', startLine: 2, endLine: 2, cut: true })
})

test('reading stops at the end line and releases the stream', async () => {
  let released = false
  let yielded = 0
  async function * endless (): AsyncGenerator<Uint8Array> {
    try {
      for (;;) { yielded++; yield Buffer.from(`row ${yielded}\n`) }
    } finally { released = true }
  }
  assert.equal((await readLineRange(endless(), 3, 4, 1000)).content, 'row 3\nrow 4')
  assert.equal(released, true)
  assert.equal(yielded, 4)
})
