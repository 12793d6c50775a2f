import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { JobQueue } from '../../../src/jobs/queue.js'

const queueOf = (...ids: string[]): JobQueue => {
  const queue = new JobQueue()
  for (const id of ids) queue.push(id)
  return queue
}

describe('JobQueue', () => {
  test('jobs come out in the order they went in', () => {
    const queue = queueOf('a', 'b', 'c')
    assert.equal(queue.shift(), 'a')
    assert.equal(queue.shift(), 'b')
    queue.push('d')
    assert.equal(queue.shift(), 'c')
    assert.equal(queue.shift(), 'd')
  })

  test('an empty queue has size 0 and shifts undefined', () => {
    const queue = new JobQueue()
    assert.equal(queue.size, 0)
    assert.equal(queue.shift(), undefined)
  })

  test('size counts the waiting jobs', () => {
    const queue = queueOf('a', 'b')
    assert.equal(queue.size, 2)
    queue.shift()
    assert.equal(queue.size, 1)
  })

  test('positions start at 1 for the next job to run and move up as jobs leave', () => {
    const queue = queueOf('a', 'b', 'c')
    assert.equal(queue.positionOf('a'), 1)
    assert.equal(queue.positionOf('c'), 3)
    queue.shift()
    assert.equal(queue.positionOf('c'), 2)
    assert.equal(queue.positionOf('a'), undefined)
  })

  test('a job that is not queued has no position', () => {
    assert.equal(queueOf('a').positionOf('zzz'), undefined)
  })

  test('remove takes a job out from anywhere and keeps the others in order', () => {
    const queue = queueOf('a', 'b', 'c')
    assert.equal(queue.remove('b'), true)
    assert.equal(queue.size, 2)
    assert.equal(queue.positionOf('c'), 2)
    assert.deepEqual(queue.drain(), ['a', 'c'])
  })

  test('removing a job that is not queued reports false and changes nothing', () => {
    const queue = queueOf('a')
    assert.equal(queue.remove('b'), false)
    assert.equal(queue.size, 1)
  })

  test('drain returns every waiting job in order and leaves the queue empty', () => {
    const queue = queueOf('a', 'b', 'c')
    assert.deepEqual(queue.drain(), ['a', 'b', 'c'])
    assert.equal(queue.size, 0)
    assert.deepEqual(queue.drain(), [])
  })

  test('the drained list is not affected by later pushes', () => {
    const queue = queueOf('a')
    const drained = queue.drain()
    queue.push('b')
    assert.deepEqual(drained, ['a'])
    assert.equal(queue.positionOf('b'), 1)
  })
})
