import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { classifyExit } from '../../../src/update/child-exit.js'

describe('child exit classification', () => {
  test('exit codes map to what the wrapper does next', () => {
    assert.equal(classifyExit({ code: 0, signal: null }, false), 'clean')
    assert.equal(classifyExit({ code: 42, signal: null }, false), 'update')
    assert.equal(classifyExit({ code: 78, signal: null }, false), 'config')
    assert.equal(classifyExit({ code: 1, signal: null }, false), 'crash')
    assert.equal(classifyExit({ code: 137, signal: null }, false), 'crash')
  })

  test('death by a signal the wrapper did not send is a crash', () => {
    assert.equal(classifyExit({ code: null, signal: 'SIGKILL' }, false), 'crash')
    assert.equal(classifyExit({ code: null, signal: 'SIGTERM' }, false), 'crash')
  })

  test('a child that could not start (no code, no signal) is a crash', () => {
    assert.equal(classifyExit({ code: null, signal: null }, false), 'crash')
  })

  test('any exit after a forwarded stop counts as stopped, even 42 or a crash', () => {
    for (const exit of [{ code: 0, signal: null }, { code: 42, signal: null }, { code: 1, signal: null }, { code: null, signal: 'SIGKILL' as const }]) {
      assert.equal(classifyExit(exit, true), 'stopped')
    }
  })
})
