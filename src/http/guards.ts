import { createRequire } from 'node:module'
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Errors } from '../errors.js'
import { DISCARD_MAX_BYTES, DISCARD_WINDOW_MS } from './limits.js'
import { closeUpgradeAfterAnswer, isUpgrade } from './refusals.js'

// Why Fastify's own parser: a Content-Type it cannot parse (`;;;;`, `json`, `a, b`) is refused 415
// before any body parser runs; the same test tells us which ones to drop, so they parse as JSON.
const ContentType = createRequire(import.meta.url)('fastify/lib/content-type.js') as new (header: string) => { isValid: boolean }

// ws's own tests of a handshake (RFC 6455 §4.2.1), made here so a bad one is refused as JSON.
const WS_KEY = /^[+/0-9A-Za-z]{22}==$/
const WS_VERSIONS = new Set(['8', '13'])
const WS_PROTOCOLS = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:[ \t]*,[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+)*$/

/** Refuses a request before routing decisions: HTTP/1.1 without Host, OPTIONS that is not a CORS preflight; drops an unparsable Content-Type. */
function checkHead (request: FastifyRequest): void {
  const raw = request.raw
  if (raw.httpVersion === '1.1' && raw.headers.host === undefined) throw new Errors.MALFORMED_REQUEST('the Host header is required')
  const type = raw.headers['content-type']
  if (type !== undefined && !new ContentType(type).isValid) delete raw.headers['content-type']
  if (raw.method === 'OPTIONS' && (raw.headers.origin === undefined || raw.headers['access-control-request-method'] === undefined)) {
    throw new Errors.MALFORMED_REQUEST('OPTIONS is answered only as a CORS preflight (Origin and Access-Control-Request-Method)')
  }
}

/**
 * The refusal of a WebSocket handshake that ws would refuse as plain text (bad key, version or
 * protocol list), or null when it is sound. Usable by any server that hands sockets to ws.
 */
export function webSocketHandshakeError (headers: IncomingHttpHeaders): Error | null {
  const key = headers['sec-websocket-key']
  if (key === undefined || !WS_KEY.test(key)) return new Errors.BAD_WEBSOCKET_HANDSHAKE('missing or invalid Sec-WebSocket-Key')
  if (!WS_VERSIONS.has(String(headers['sec-websocket-version']))) return new Errors.BAD_WEBSOCKET_HANDSHAKE('Sec-WebSocket-Version must be 13')
  const protocols = headers['sec-websocket-protocol']
  if (protocols !== undefined && !WS_PROTOCOLS.test(protocols.trim())) return new Errors.BAD_WEBSOCKET_HANDSHAKE('invalid Sec-WebSocket-Protocol')
  return null
}

/**
 * Refuses a plain request to a WebSocket route (426), an upgrade to any other route (which
 * @fastify/websocket would take over and close), and an unsound handshake.
 */
function checkUpgrade (request: FastifyRequest): void {
  if (request.is404) return // answered NOT_FOUND
  const upgrade = isUpgrade(request)
  if (request.routeOptions.config.socket !== true) {
    if (upgrade) throw new Errors.BAD_WEBSOCKET_HANDSHAKE('this route does not accept upgrades')
    return
  }
  if (!upgrade || request.headers.upgrade?.toLowerCase() !== 'websocket') throw new Errors.WEBSOCKET_REQUIRED()
  const refusal = webSocketHandshakeError(request.headers)
  if (refusal) throw refusal
}

/**
 * Reads and discards what is left of a request body that will not be read, up to a size and a
 * time; resolves true when the body ended (the connection can be kept), false otherwise.
 */
function discardBody (raw: IncomingMessage): Promise<boolean> {
  if (raw.complete) return Promise.resolve(true)
  if (Number(raw.headers['content-length']) > DISCARD_MAX_BYTES) return Promise.resolve(false)
  return new Promise((resolve) => {
    let seen = 0
    const finish = (ended: boolean): void => {
      clearTimeout(timer)
      raw.off('data', onData).off('end', onEnd).off('error', onError).off('close', onError)
      resolve(ended)
    }
    const onData = (chunk: Buffer): void => {
      seen += chunk.length
      if (seen > DISCARD_MAX_BYTES) finish(false)
    }
    const onEnd = (): void => finish(true)
    const onError = (): void => finish(false)
    const timer = setTimeout(() => finish(false), DISCARD_WINDOW_MS)
    raw.on('data', onData).once('end', onEnd).once('error', onError).once('close', onError)
    raw.resume()
  })
}

/**
 * Hooks of the HTTP layer: `checkHead` first of all (register before any other onRequest hook),
 * upgrades and WebSocket handshakes after authentication, and a bounded discard of unread bodies
 * before each answer (a body not read in time closes the connection after the answer).
 */
export function registerHttpGuards (app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => checkHead(request))
  app.addHook('preValidation', async (request) => checkUpgrade(request))
  app.addHook('onSend', async (request, reply, payload) => {
    if (isUpgrade(request)) closeUpgradeAfterAnswer(request, reply)
    else if (!await discardBody(request.raw)) reply.header('connection', 'close')
    return payload
  })
}
