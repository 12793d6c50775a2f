import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { test } from 'node:test'
import type { WebSocket } from 'ws'
import { HeldFrames } from '../../../src/auth/socket-auth.js'

/** Just enough of a `ws` socket: it emits 'message' and can be terminated. */
class FakeSocket extends EventEmitter {
  terminated = false
  terminate (): void { this.terminated = true }
  frame (text: string): void { this.emit('message', Buffer.from(text), false) }
}

test('frames received before a reader is given reach it in order, then later ones follow', () => {
  const socket = new FakeSocket()
  const frames = new HeldFrames(socket as unknown as WebSocket)
  const first: string[] = []
  const read: string[] = []
  frames.takeFirst((raw) => first.push(raw.toString()))
  socket.frame('auth')
  socket.frame('a')
  socket.frame('b')
  frames.release((raw) => read.push(raw.toString()))
  socket.frame('c')
  assert.deepEqual(first, ['auth'])
  assert.deepEqual(read, ['a', 'b', 'c'])
})

test('a peer that sends more than 1 MiB before its session is ready is disconnected', () => {
  const socket = new FakeSocket()
  const frames = new HeldFrames(socket as unknown as WebSocket)
  const chunk = 'x'.repeat(64 * 1024)
  for (let i = 0; i < 16; i++) socket.frame(chunk)
  assert.equal(socket.terminated, false)
  socket.frame(chunk)
  assert.equal(socket.terminated, true)
  const read: string[] = []
  frames.release((raw) => read.push(raw.toString()))
  assert.deepEqual(read, [])
})
