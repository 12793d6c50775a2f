import assert from 'node:assert/strict'
import { test } from 'node:test'
import { sleepLong } from '../../../src/lib/long-sleep.js'
import { MAX_TIMER_STEP_MS } from '../../../src/lib/long-timer.js'

test('a sleep above 2^31-1 ms lasts its whole delay (a plain setTimeout would end after 1 ms)', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  let result: boolean | undefined
  sleepLong(MAX_TIMER_STEP_MS + 10_000).then((full) => { result = full }, () => {})
  t.mock.timers.tick(MAX_TIMER_STEP_MS)
  await Promise.resolve()
  assert.equal(result, undefined)
  t.mock.timers.tick(10_000)
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(result, true)
})

test('an abort ends the sleep early with false; an already aborted signal returns false at once', async () => {
  const stop = new AbortController()
  const sleeping = sleepLong(3 * MAX_TIMER_STEP_MS, stop.signal)
  stop.abort()
  assert.equal(await sleeping, false)
  assert.equal(await sleepLong(10, stop.signal), false)
  assert.equal(await sleepLong(1), true)
})
