import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Errors, MAX_HEADER_BYTES, toErrorResponse } from '../errors.js'

/** The raw HTTP/1.1 bytes of an error answer `{error, code}` (with its Retry-After, if any) that closes the connection. */
export function rawErrorResponse (err: unknown): string {
  const { status, body, retryAfterSec } = toErrorResponse(err)
  const json = JSON.stringify(body)
  const retryAfter = retryAfterSec === undefined ? '' : `Retry-After: ${retryAfterSec}\r\n`
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\n${retryAfter}` +
    `Content-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`
}

/** The catalogue error for a request Node's parser refused (Node's `clientError` event). */
export function clientErrorOf (err: NodeJS.ErrnoException): Error {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return new Errors.REQUEST_TIMEOUT()
  if (err.code === 'HPE_HEADER_OVERFLOW') return new Errors.HEADERS_TOO_LARGE(MAX_HEADER_BYTES)
  const reason = (err as { reason?: unknown }).reason
  return new Errors.MALFORMED_REQUEST(typeof reason === 'string' && reason !== '' ? reason.toLowerCase() : 'the request cannot be parsed')
}

/**
 * Fastify's `clientErrorHandler`: a request Node could not parse (bad request line or header, a head
 * over 16 KiB, a request not received in time) is answered `{error, code}` and the connection closed.
 */
export function answerClientError (err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  // Why: once an answer has begun on this connection, another one would corrupt it.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage
  if (!socket.writable || inFlight?.headersSent === true) {
    socket.destroy()
    return
  }
  socket.end(rawErrorResponse(clientErrorOf(err)))
}

/** Node's `checkExpectation`: an `Expect` other than 100-continue is answered 417 as JSON (Node's own answer is empty). */
export function answerExpectation (_request: IncomingMessage, response: ServerResponse): void {
  const { status, body } = toErrorResponse(new Errors.EXPECTATION_FAILED())
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', connection: 'close' }).end(JSON.stringify(body))
}

/** True for a request Node handed over as an upgrade (Upgrade + Connection: upgrade), answered on its raw socket. */
export function isUpgrade (request: FastifyRequest): boolean {
  return (request.raw as IncomingMessage & { upgrade?: boolean }).upgrade === true
}

/**
 * Closes the socket of an upgrade request once its HTTP answer is written.
 * Why: @fastify/websocket closes it only when its own onRequest hook ran (not after an earlier
 * hook threw, nor for framework errors); the paused socket would never notice the client leaving
 * and would keep app.close() waiting for ever.
 */
export function closeUpgradeAfterAnswer (request: FastifyRequest, reply: FastifyReply): void {
  const socket = request.raw.socket
  reply.header('connection', 'close')
  reply.raw.once('finish', () => socket.end(() => socket.destroy()))
}

/** Fastify's `frameworkErrors`: a path with a bad %-escape or an over-long parameter, refused before routing. */
export function answerFrameworkError (err: Error, request: FastifyRequest, reply: FastifyReply): void {
  const { status, body } = toErrorResponse(err)
  if (isUpgrade(request)) closeUpgradeAfterAnswer(request, reply)
  reply.code(status).send(body)
}
