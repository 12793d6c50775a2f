import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RunLimits, RunStop } from '../../../src/acp/run-limits.js'
import { longTimeoutSignal } from '../../../src/lib/long-timer.js'
import { waitFor } from '../../helpers/wait.js'

const BEYOND_INT32_MS = 2 ** 31 + 1000

test('limits above 2^31-1 ms do not fire at once (AbortSignal.timeout and setTimeout would)', async () => {
  const long = new RunLimits({ timeoutMs: BEYOND_INT32_MS, idleTimeoutMs: 2 ** 32 })
  const far = longTimeoutSignal(BEYOND_INT32_MS, () => new Error('late'))
  const short = new RunLimits({ timeoutMs: 50 })
  try {
    await waitFor(() => short.signal.aborted, 'the short timeout to fire', 5000)
    assert.equal(short.stop?.kind, 'total')
    assert.equal(long.signal.aborted, false)
    assert.equal(long.stop, null)
    assert.equal(far.signal.aborted, false)
  } finally {
    long.close()
    short.close()
    far.timer.clear()
  }
})

test('the idle limit fires after silence, says so, and is held while paused', async () => {
  let paused = true
  const idle = new RunLimits({ idleTimeoutMs: 30, paused: () => paused })
  const reference = new RunLimits({ idleTimeoutMs: 30 })
  try {
    await waitFor(() => reference.signal.aborted, 'the reference idle limit to fire', 5000)
    assert.equal(idle.signal.aborted, false, 'held while paused')
    paused = false
    await waitFor(() => idle.signal.aborted, 'the idle limit to fire', 5000)
    assert.ok(idle.stop instanceof RunStop)
    assert.equal(idle.stop.kind, 'idle')
    assert.equal(idle.stop.message, 'no update from the agent for 0.03 s')
  } finally {
    idle.close()
    reference.close()
  }
})

test('the caller\'s abort is a stop of kind abort, already aborted included', () => {
  const caller = new AbortController()
  caller.abort()
  const limits = new RunLimits({ signal: caller.signal, timeoutMs: 10_000 })
  assert.equal(limits.stop?.kind, 'abort')
  limits.close()
})
