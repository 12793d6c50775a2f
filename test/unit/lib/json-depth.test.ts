import assert from 'node:assert/strict'
import { test } from 'node:test'
import { jsonNestedDeeperThan } from '../../../src/lib/json-depth.js'

test('nesting up to the limit passes and one level more is refused', () => {
  assert.equal(jsonNestedDeeperThan('['.repeat(3) + ']'.repeat(3), 3), false)
  assert.equal(jsonNestedDeeperThan('{"a":[{"b":1}]}', 3), false)
  assert.equal(jsonNestedDeeperThan('[[[[1]]]]', 3), true)
  assert.equal(jsonNestedDeeperThan('{"a":{"b":{"c":{}}}}', 3), true)
})

test('brackets inside strings, escaped quotes included, do not count', () => {
  assert.equal(jsonNestedDeeperThan(JSON.stringify({ command: '[[[[{{{{' }), 2), false)
  assert.equal(jsonNestedDeeperThan(JSON.stringify({ command: 'say "[[[[" \\' }), 2), false)
  assert.equal(jsonNestedDeeperThan(JSON.stringify({ a: 'ends with a backslash\\', b: [[[1]]] }), 3), true)
  assert.equal(jsonNestedDeeperThan('{"a": "never closed [[[[[', 2), false)
})

test('a 4 MiB unclosed bracket body is refused', () => {
  assert.equal(jsonNestedDeeperThan('['.repeat(4 * 1024 * 1024), 64), true)
})
