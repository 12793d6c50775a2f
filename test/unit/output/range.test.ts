import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { parseRange } from '../../../src/output/range.js'

const SIZE = 100

describe('parseRange', () => {
  test('no Range header means the whole file', () => {
    assert.equal(parseRange(undefined, SIZE), null)
    assert.equal(parseRange('', SIZE), null)
  })

  test('a first-last range is returned inclusive', () => {
    assert.deepEqual(parseRange('bytes=0-9', SIZE), { start: 0, end: 9 })
    assert.deepEqual(parseRange('bytes=10-10', SIZE), { start: 10, end: 10 })
  })

  test('an open-ended range runs to the last byte', () => {
    assert.deepEqual(parseRange('bytes=5-', SIZE), { start: 5, end: 99 })
  })

  test('a suffix range selects the last N bytes', () => {
    assert.deepEqual(parseRange('bytes=-3', SIZE), { start: 97, end: 99 })
  })

  test('a suffix longer than the file selects the whole file', () => {
    assert.deepEqual(parseRange('bytes=-500', SIZE), { start: 0, end: 99 })
  })

  test('an end beyond the file is clamped to the last byte', () => {
    assert.deepEqual(parseRange('bytes=90-1000', SIZE), { start: 90, end: 99 })
  })

  test('surrounding whitespace is tolerated', () => {
    assert.deepEqual(parseRange('  bytes=0-1 ', SIZE), { start: 0, end: 1 })
  })

  test('a start at or beyond the end of the file is unsatisfiable', () => {
    assert.equal(parseRange('bytes=100-', SIZE), 'unsatisfiable')
    assert.equal(parseRange('bytes=150-200', SIZE), 'unsatisfiable')
    assert.equal(parseRange('bytes=0-', 0), 'unsatisfiable')
  })

  test('a zero-length suffix is unsatisfiable', () => {
    assert.equal(parseRange('bytes=-0', SIZE), 'unsatisfiable')
  })

  test('a malformed header or several ranges are ignored (the whole file is served)', () => {
    for (const header of ['bytes=', 'bytes=-', 'bytes=a-b', 'bytes=1-2,4-5', 'items=0-9', 'bytes 0-9', 'bytes=0-9-', 'bytes=--1']) {
      assert.equal(parseRange(header, SIZE), null, header)
    }
  })

  // Fails with the current src: it returns { start: 0, end: -1 }, and GET /jobs/:id/stdout then answers 500.
  test('a suffix range of an empty file never yields a range that ends before it starts', () => {
    const range = parseRange('bytes=-3', 0)
    assert.ok(range === null || range === 'unsatisfiable', `got ${JSON.stringify(range)}`)
  })

  test('every range returned lies inside the file', () => {
    for (const size of [1, 2, 10]) {
      for (const header of ['bytes=0-0', 'bytes=0-', 'bytes=-1', 'bytes=-20', 'bytes=1-5', 'bytes=3-100']) {
        const range = parseRange(header, size)
        if (range === null || range === 'unsatisfiable') continue
        assert.ok(range.start >= 0 && range.start <= range.end && range.end < size, `${header} on ${size} bytes gave ${JSON.stringify(range)}`)
      }
    }
  })
})
