import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { DEFAULT_BACKOFF, RestartBackoff, restartDelayMs } from '../../../src/update/backoff.js'

describe('restart backoff', () => {
  test('the default delays start at 1 s and double up to 60 s', () => {
    const delays = Array.from({ length: 9 }, (_, attempt) => restartDelayMs(attempt, DEFAULT_BACKOFF))
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000])
  })

  test('a huge attempt count stays at the maximum instead of overflowing', () => {
    assert.equal(restartDelayMs(10_000, DEFAULT_BACKOFF), 60_000)
    assert.equal(restartDelayMs(Number.MAX_SAFE_INTEGER, DEFAULT_BACKOFF), 60_000)
  })

  test('a maximum below the initial delay never shortens the initial delay', () => {
    assert.equal(restartDelayMs(0, { initialMs: 500, maxMs: 100, resetAfterMs: 1000 }), 500)
    assert.equal(restartDelayMs(3, { initialMs: 500, maxMs: 100, resetAfterMs: 1000 }), 500)
  })

  test('consecutive crashes wait longer each time and number their attempts', () => {
    const backoff = new RestartBackoff({ initialMs: 100, maxMs: 1000, resetAfterMs: 10_000 })
    const steps = Array.from({ length: 6 }, () => backoff.next(50))
    assert.deepEqual(steps.map((step) => step.delayMs), [100, 200, 400, 800, 1000, 1000])
    assert.deepEqual(steps.map((step) => step.attempt), [1, 2, 3, 4, 5, 6])
  })

  test('a child that ran healthily for resetAfterMs starts the streak over', () => {
    const backoff = new RestartBackoff({ initialMs: 100, maxMs: 1000, resetAfterMs: 10_000 })
    backoff.next(50)
    backoff.next(50)
    assert.equal(backoff.next(9_999).delayMs, 400)
    assert.deepEqual(backoff.next(10_000), { delayMs: 100, attempt: 1 })
    assert.equal(backoff.next(50).delayMs, 200)
  })

  test('reset forgets the streak', () => {
    const backoff = new RestartBackoff({ initialMs: 100, maxMs: 1000, resetAfterMs: 10_000 })
    backoff.next(0)
    backoff.next(0)
    backoff.reset()
    assert.equal(backoff.next(0).delayMs, 100)
  })
})
