import assert from 'node:assert/strict'
import { test } from 'node:test'
import { similarNames, unknownCommandMessage } from '../../../src/commands/suggest.js'

const COMMANDS = ['key', 'exec', 'logs', 'jobs', 'kill', 'attach', 'cp', 'health', 'status', 'stop']

test('a swapped or missing letter suggests the command meant', () => {
  assert.deepEqual(similarNames('jbos', COMMANDS), ['jobs'])
  assert.deepEqual(similarNames('stauts', COMMANDS), ['status'])
  assert.deepEqual(similarNames('helth', COMMANDS), ['health'])
  assert.deepEqual(similarNames('att', COMMANDS), ['attach'])
})

test('a word far from every command gets no suggestion', () => {
  assert.deepEqual(similarNames('bogus', COMMANDS), [])
  assert.equal(unknownCommandMessage('bogus', COMMANDS), "error: unknown command 'bogus'; see agent-server --help")
})
