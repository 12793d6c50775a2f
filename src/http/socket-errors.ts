import type { FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'

// ws's protocol errors (WS_ERR_INVALID_OPCODE, …) and the connection's errno codes (ECONNRESET, EPIPE).
const PEER_ERROR_CODE = /^(?:WS_ERR_[A-Z0-9_]+|E[A-Z]+)$/

/**
 * @fastify/websocket's `errorHandler`: terminates the socket and logs at debug. Why not at error
 * level (its default, with a stack): a bad frame or a dropped connection is the peer's doing, and
 * anyone can open a socket before authenticating, so error lines would let anyone flood the log.
 * A failure of our own handler stays at error level.
 */
export function answerWebSocketError (err: Error & { code?: unknown }, socket: WebSocket, request: FastifyRequest): void {
  const fromPeer = typeof err.code === 'string' && PEER_ERROR_CODE.test(err.code)
  if (fromPeer) request.log.debug({ err: { message: err.message, code: err.code } }, 'WebSocket closed after an error')
  else request.log.error({ err }, 'WebSocket handler failed')
  socket.terminate()
}
