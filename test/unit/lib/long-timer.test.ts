import assert from 'node:assert/strict'
import { test } from 'node:test'
import { longTimeoutSignal, MAX_TIMER_STEP_MS, setLongTimeout } from '../../../src/lib/long-timer.js'

test('a delay above 2^31-1 ms does not fire early (Node fires such a setTimeout after 1 ms)', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  let fired = 0
  setLongTimeout(() => { fired++ }, 31_536_000_000)
  t.mock.timers.tick(10)
  assert.equal(fired, 0)
  t.mock.timers.tick(MAX_TIMER_STEP_MS)
  assert.equal(fired, 0)
  t.mock.timers.tick(31_536_000_000 - MAX_TIMER_STEP_MS - 10 - 1)
  assert.equal(fired, 0)
  t.mock.timers.tick(1)
  assert.equal(fired, 1)
  t.mock.timers.tick(MAX_TIMER_STEP_MS * 20)
  assert.equal(fired, 1)
})

test('a short delay fires once; clear stops it; Infinity never fires', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  let short = 0
  let cleared = 0
  let infinite = 0
  setLongTimeout(() => { short++ }, 50)
  const timer = setLongTimeout(() => { cleared++ }, 3 * MAX_TIMER_STEP_MS)
  setLongTimeout(() => { infinite++ }, Infinity)
  t.mock.timers.tick(MAX_TIMER_STEP_MS + 5)
  timer.clear()
  timer.clear()
  t.mock.timers.tick(10 * MAX_TIMER_STEP_MS)
  assert.deepEqual([short, cleared, infinite], [1, 0, 0])
})

test('zero, negative and NaN delays fire on the next turn', async () => {
  const fired: number[] = []
  for (const delay of [0, -5, Number.NaN]) setLongTimeout(() => { fired.push(delay) }, delay)
  await new Promise((resolve) => setTimeout(resolve, 5))
  assert.equal(fired.length, 3)
})

test('longTimeoutSignal aborts with its reason after the delay, also above 2^31-1 ms, and not once cleared', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  const far = longTimeoutSignal(3 * MAX_TIMER_STEP_MS, () => new Error('far'))
  const cleared = longTimeoutSignal(100, () => new Error('cleared'))
  cleared.timer.clear()
  t.mock.timers.tick(MAX_TIMER_STEP_MS + 1)
  assert.equal(far.signal.aborted, false)
  t.mock.timers.tick(2 * MAX_TIMER_STEP_MS)
  assert.equal(far.signal.aborted, true)
  assert.equal((far.signal.reason as Error).message, 'far')
  assert.equal(cleared.signal.aborted, false)
})
