import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RunQueue, type RunQueueHooks } from '../../../src/sessions/run-queue.js'
import { armTimeout, type QueuedRun } from '../../../src/sessions/runs.js'
import type { SessionRunRequest } from '../../../src/sessions/types.js'
import { waitFor } from '../../helpers/wait.js'
import { captureLog } from '../update/log-capture.js'

const queued = (jobId: string): QueuedRun => ({
  request: { jobId } as SessionRunRequest,
  callbacks: { started: () => {}, finished: () => {} },
  timer: null,
  timedOut: false,
  cancelled: false,
})

// A queue whose starts are held until the test lets each one end.
function heldQueue (overrides: Partial<RunQueueHooks> = {}): { queue: RunQueue, started: string[], idle: () => number, endStart: (error?: Error) => void } {
  const started: string[] = []
  const ends: Array<(error?: Error) => void> = []
  let idleCalls = 0
  const queue = new RunQueue({
    canStart: () => true,
    start: async (run) => {
      started.push(run.request.jobId)
      await new Promise<void>((resolve, reject) => { ends.push((error) => { if (error) reject(error); else resolve() }) })
    },
    idle: () => { idleCalls++ },
    log: captureLog().log,
    ...overrides,
  })
  return { queue, started, idle: () => idleCalls, endStart: (error) => { (ends.shift() as (error?: Error) => void)(error) } }
}

test('waiting runs keep their order and places; a removed one leaves the others in order', () => {
  const { queue } = heldQueue({ canStart: () => false })
  assert.equal(queue.add(queued('a')), 0)
  assert.equal(queue.add(queued('b')), 1)
  assert.equal(queue.add(queued('c')), 2)
  assert.deepEqual(queue.waitingJobIds, ['a', 'b', 'c'])
  assert.equal(queue.position('b'), 2)
  assert.equal(queue.remove('b')?.request.jobId, 'b')
  assert.equal(queue.remove('b'), null)
  assert.deepEqual(queue.waitingJobIds, ['a', 'c'])
  assert.equal(queue.position('c'), 2)
  assert.equal(queue.position('nope'), null)
  assert.equal(queue.pending, true)
  assert.deepEqual(queue.drain().map((r) => r.request.jobId), ['a', 'c'])
  assert.equal(queue.pending, false)
})

test('nothing starts while the session says no', () => {
  const { queue, started, idle } = heldQueue({ canStart: () => false })
  queue.add(queued('a'))
  queue.pump()
  assert.deepEqual(started, [])
  assert.equal(queue.starting, null)
  assert.equal(idle(), 0)
})

test('runs start one at a time in order, and the queue says idle once none is left', async () => {
  const { queue, started, idle, endStart } = heldQueue()
  queue.add(queued('a'))
  queue.add(queued('b'))
  queue.pump()
  queue.pump()
  assert.deepEqual(started, ['a'])
  assert.equal(queue.starting?.request.jobId, 'a')
  assert.equal(queue.position('a'), 0)
  assert.equal(queue.position('b'), 1)
  endStart()
  await waitFor(() => started.length === 2, 'the second start')
  assert.equal(queue.starting?.request.jobId, 'b')
  assert.deepEqual(queue.waitingJobIds, [])
  endStart()
  await waitFor(() => idle() === 1, 'the queue to say idle')
  assert.equal(queue.starting, null)
  assert.equal(queue.pending, false)
})

test('a start that fails is logged and the next run starts', async () => {
  const { log, lines } = captureLog()
  const { queue, started, endStart } = heldQueue({ log: log.child({ sessionKey: 'k' }) })
  queue.add(queued('a'))
  queue.add(queued('b'))
  queue.pump()
  endStart(new Error('no shell'))
  await waitFor(() => started.length === 2, 'the second start')
  assert.equal(lines.some((line) => line.msg === 'session run failed to start' && line.sessionKey === 'k'), true)
  endStart()
})

test('clearing the timers stops the timeout of the run being started as well as the waiting ones (a detached session)', async () => {
  const { queue, started } = heldQueue()
  const timedOut: string[] = []
  const [starting, waiting] = [queued('starting'), queued('waiting')]
  for (const run of [starting, waiting]) {
    armTimeout(run, 30, (r) => { timedOut.push(r.request.jobId) })
    queue.add(run)
  }
  queue.pump()
  assert.deepEqual(started, ['starting'])
  queue.clearTimers()
  await new Promise((resolve) => setTimeout(resolve, 100))
  assert.deepEqual(timedOut, [])
})
