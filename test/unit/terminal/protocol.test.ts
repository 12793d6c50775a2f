import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { clampSize, COLS, controlFrame, MAX_MESSAGE_BYTES, parseClientMessage, ROWS } from '../../../src/terminal/protocol.js'

describe('terminal protocol', () => {
  test('input, resize and ping frames are decoded', () => {
    assert.deepEqual(parseClientMessage('{"type":"input","data":"ls\\r"}', false), { type: 'input', data: 'ls\r' })
    assert.deepEqual(parseClientMessage(Buffer.from('{"type":"resize","cols":120,"rows":40}'), false), { type: 'resize', cols: 120, rows: 40 })
    assert.deepEqual(parseClientMessage('{"type":"ping"}', false), { type: 'ping' })
  })

  test('resize values are clamped to 10–500 × 2–200, and non-numbers become 80 × 24 as in devpilot', () => {
    assert.deepEqual(parseClientMessage('{"type":"resize","cols":1,"rows":9999}', false), { type: 'resize', cols: 10, rows: 200 })
    assert.deepEqual(parseClientMessage('{"type":"resize","cols":"wide","rows":null}', false), { type: 'resize', cols: 80, rows: 24 })
    assert.equal(clampSize('132', COLS), 132)
    assert.equal(clampSize(40.7, ROWS), 40)
    assert.equal(clampSize(Infinity, COLS), 80)
    assert.equal(clampSize(undefined, ROWS), 24)
  })

  test('binary, oversized, non-JSON, non-object, unknown and ill-typed frames are null', () => {
    assert.equal(parseClientMessage('{"type":"ping"}', true), null)
    assert.equal(parseClientMessage(JSON.stringify({ type: 'input', data: 'x'.repeat(MAX_MESSAGE_BYTES) }), false), null)
    assert.equal(parseClientMessage('not json', false), null)
    assert.equal(parseClientMessage('null', false), null)
    assert.equal(parseClientMessage('"input"', false), null)
    assert.equal(parseClientMessage('{"type":"auth","key":"k"}', false), null)
    assert.equal(parseClientMessage('{"type":"input","data":42}', false), null)
    assert.equal(parseClientMessage('{"type":"__proto__"}', false), null)
  })

  test('control frames are a NUL followed by JSON', () => {
    assert.equal(controlFrame({ type: 'pong' }), '\u0000{"type":"pong"}')
    assert.equal(controlFrame({ type: 'error', message: 'x' }), '\u0000{"type":"error","message":"x"}')
  })
})
