import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { Duplex } from 'node:stream'
import { STATUS_CODES } from 'node:http'
import { WebSocketServer } from 'ws'
import { keyInQuery, originAllowed, presentedKey } from '../auth/routes.js'
import type { SocketAuth } from '../auth/socket-auth.js'
import type { TicketStore } from '../auth/tickets.js'
import { Errors, tooManyAuthFailures, toErrorResponse } from '../errors.js'
import type { Logger } from '../logger.js'
import { MAX_MESSAGE_BYTES } from './protocol.js'
import type { TerminalQuery } from './request.js'
import type { TerminalService } from './service.js'

/** What the compatibility port needs from the main server. */
export interface TerminalPortOptions {
  service: TerminalService
  socketAuth: SocketAuth
  tickets: TicketStore
  corsOrigins: readonly string[]
  tls: { cert: Buffer, key: Buffer } | null
  log: Logger
}

function writeError (socket: Duplex, err: unknown): void {
  const { status, body, retryAfterSec } = toErrorResponse(err)
  const json = JSON.stringify(body)
  const retryAfter = retryAfterSec === undefined ? '' : `Retry-After: ${retryAfterSec}\r\n`
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json\r\n${retryAfter}` +
    `Content-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`)
}

/**
 * The terminal on its own port, as devpilot served it (port + 1): every path is the terminal
 * WebSocket, with the same authentication, origin check and protocol as `GET /terminal`.
 * Returns a server that is not listening yet.
 */
export function createTerminalPortServer (options: TerminalPortOptions): Server {
  const { service, socketAuth, tickets, log } = options
  const allowed = new Set(options.corsOrigins)
  const scheme = options.tls ? 'https' : 'http'
  const server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }) : createHttpServer()
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES })

  server.on('request', (request, response) => {
    const { status, body } = toErrorResponse(new Errors.UPGRADE_REQUIRED())
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
  })
  const upgrade = async (request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
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
    upgrade(request, socket, head).catch((err: unknown) => writeError(socket, err))
  })
  // Why: a failed accept (ENFILE, ENOMEM) is an 'error' event of the listening server; it must not stop the process.
  server.on('error', (err) => { if (server.listening) log.error({ err }, 'terminal port failed to accept a connection') })
  server.on('close', () => {
    for (const client of sockets.clients) client.terminate()
    sockets.close()
  })
  return server
}
