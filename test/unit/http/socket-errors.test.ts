import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import { answerWebSocketError } from '../../../src/http/socket-errors.js'

/** Calls the handler with `err` and returns the log levels used and whether the socket was terminated. */
function handle (err: Error): { levels: string[], terminated: boolean } {
  const levels: string[] = []
  let terminated = false
  const log = { debug: () => levels.push('debug'), error: () => levels.push('error') }
  answerWebSocketError(err, { terminate: () => { terminated = true } } as unknown as WebSocket, { log } as unknown as FastifyRequest)
  return { levels, terminated }
}

test("a peer's bad frame or dropped connection is logged at debug; a failure of our handler at error; the socket ends either way", () => {
  const withCode = (code: string): Error => Object.assign(new Error(code), { code })
  assert.deepEqual(handle(withCode('WS_ERR_INVALID_OPCODE')), { levels: ['debug'], terminated: true })
  assert.deepEqual(handle(withCode('ECONNRESET')), { levels: ['debug'], terminated: true })
  assert.deepEqual(handle(new TypeError('x is undefined')), { levels: ['error'], terminated: true })
  assert.deepEqual(handle(withCode('ERR_INVALID_ARG_TYPE')), { levels: ['error'], terminated: true })
})
