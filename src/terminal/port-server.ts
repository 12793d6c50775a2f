import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { Duplex } from 'node:stream'
import { WebSocketServer } from 'ws'
import { keyInQuery, originAllowed, presentedKey } from '../auth/request-key.js'
import type { SocketAuth } from '../auth/socket-auth.js'
import type { TicketStore } from '../auth/tickets.js'
import { Errors, tooManyAuthFailures, toErrorResponse } from '../errors.js'
import { webSocketHandshakeError } from '../http/guards.js'
import { NODE_SERVER_OPTIONS } from '../http/limits.js'
import { answerClientError, answerExpectation, rawErrorResponse } from '../http/refusals.js'
import type { Logger } from '../logger.js'
import { MAX_MESSAGE_BYTES } from './protocol.js'
import type { TerminalQuery } from './request.js'
import type { TerminalService } from './service.js'

// The route of this port's sockets in the log of failed authentications.
const PORT_ROUTE = 'terminal port'

/** What the compatibility port needs from the main server. */
export interface TerminalPortOptions {
  service: TerminalService
  socketAuth: SocketAuth
  tickets: TicketStore
  corsOrigins: readonly string[]
  tls: { cert: Buffer, key: Buffer } | null
  log: Logger
}

/** The main port's head check: HTTP/1.1 without Host is refused (Node's own refusal, with `requireHostHeader`, is an empty 400). */
function checkHost (request: IncomingMessage): void {
  if (request.httpVersion === '1.1' && request.headers.host === undefined) throw new Errors.MALFORMED_REQUEST('the Host header is required')
}

/** Refuses, as JSON, every upgrade that ws would refuse as text/html: not a GET, not `Upgrade: websocket`, a bad handshake. */
function checkHandshake (request: IncomingMessage): void {
  if (request.headers.upgrade?.toLowerCase() !== 'websocket') throw new Errors.UPGRADE_REQUIRED()
  if (request.method !== 'GET') throw new Errors.BAD_WEBSOCKET_HANDSHAKE('the handshake must be a GET request')
  const refusal = webSocketHandshakeError(request.headers)
  if (refusal) throw refusal
}

/**
 * The terminal on its own port, as devpilot served it (port + 1): every path is the terminal
 * WebSocket, with the same authentication, origin check and protocol as `GET /terminal`, and the
 * same HTTP timeouts and JSON refusals as the main port. Returns a server that is not listening yet.
 */
export function createTerminalPortServer (options: TerminalPortOptions): Server {
  const { service, socketAuth, tickets, log } = options
  const allowed = new Set(options.corsOrigins)
  const scheme = options.tls ? 'https' : 'http'
  const server = options.tls
    ? createHttpsServer({ ...NODE_SERVER_OPTIONS, cert: options.tls.cert, key: options.tls.key })
    : createHttpServer(NODE_SERVER_OPTIONS)
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES })

  server.on('clientError', answerClientError)
  server.on('checkExpectation', answerExpectation)
  server.on('request', (request, response) => {
    let refusal: Error = new Errors.UPGRADE_REQUIRED()
    try { checkHost(request) } catch (err) { refusal = err as Error }
    const { status, body } = toErrorResponse(refusal)
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body))
  })
  const upgrade = async (request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    checkHost(request)
    checkHandshake(request)
    const query = Object.fromEntries(new URL(request.url ?? '/', 'http://localhost').searchParams) as TerminalQuery & { ticket?: string }
    const origin = request.headers.origin
    if (!originAllowed(origin, allowed, `${scheme}://${request.headers.host ?? ''}`)) throw new Errors.ORIGIN_NOT_ALLOWED(origin)
    if (keyInQuery(query)) throw new Errors.KEY_IN_URL()
    const address = request.socket.remoteAddress ?? ''
    const authenticated = socketAuth.verify(presentedKey(request)) || tickets.consume(query.ticket)
    if (!authenticated) {
      const retryAfterSec = await socketAuth.failures.retryAfter(address)
      if (retryAfterSec !== null) throw tooManyAuthFailures(retryAfterSec)
    }
    const terminal = service.prepare(query)
    if (!authenticated) socketAuth.failures.expectSocket(address, PORT_ROUTE)
    sockets.handleUpgrade(request, socket, head, (ws) => {
      // Why: `ws` reports a bad frame from the peer (unmasked, bad opcode, invalid UTF-8, too big) as
      // an 'error' event, then closes the socket; without a listener that event stops the server.
      ws.on('error', (err) => log.debug({ err, address }, 'terminal port socket error'))
      service.connect(ws, terminal, authenticated, address).catch((err: unknown) => {
        log.warn({ err }, 'terminal socket failed')
        ws.terminate()
      })
    })
  }
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', (err) => log.debug({ err }, 'terminal port socket error'))
    upgrade(request, socket, head).catch((err: unknown) => {
      if (!socket.destroyed) socket.end(rawErrorResponse(err))
    })
  })
  // Why: a failed accept (ENFILE, ENOMEM) is an 'error' event of the listening server; it must not stop the process.
  server.on('error', (err) => { if (server.listening) log.error({ err }, 'terminal port failed to accept a connection') })
  server.on('close', () => {
    for (const client of sockets.clients) client.terminate()
    sockets.close()
  })
  return server
}
