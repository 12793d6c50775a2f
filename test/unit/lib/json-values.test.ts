import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isPlainObject, isPythonFalsy } from '../../../src/lib/json-values.js'

test('only JSON objects are plain objects', () => {
  assert.equal(isPlainObject({}), true)
  for (const value of [null, [], 'x', 1, true, undefined]) assert.equal(isPlainObject(value), false)
})

test("falsy means what Python's `not v` means: null, false, 0, '', [] and {}", () => {
  for (const value of [null, undefined, false, 0, '', [], {}]) assert.equal(isPythonFalsy(value), true, JSON.stringify(value))
  for (const value of [true, 1, 'x', [0], { a: 1 }, ' ']) assert.equal(isPythonFalsy(value), false, JSON.stringify(value))
})
