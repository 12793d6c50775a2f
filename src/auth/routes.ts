import type { FastifyInstance, FastifyRequest } from 'fastify'
import rateLimit from '@fastify/rate-limit'
import cors from '@fastify/cors'
import { Errors } from '../errors.js'
import type { KeyStore } from './key-store.js'
import type { TicketStore } from './tickets.js'

// Failed authentications allowed per address and window before answering 429.
const AUTH_FAILURES_PER_WINDOW = 30
const AUTH_FAILURE_WINDOW_MS = 60_000

declare module 'fastify' {
  interface FastifyRequest {
    /** True when the request carried the valid API key. */
    authenticated: boolean
  }
  interface FastifyContextConfig {
    /** The route answers without a key (it may still look at `request.authenticated`). */
    public?: boolean
    /** A WebSocket route: a `?ticket=` counts as a key, and without either the socket may still authenticate with its first message. */
    socket?: boolean
  }
}

/** The key a request presents: `X-API-Key`, or `Authorization: Bearer`. */
export function presentedKey (request: Pick<FastifyRequest, 'headers'>): string | undefined {
  const header = request.headers['x-api-key']
  if (typeof header === 'string' && header !== '') return header
  const authorization = request.headers.authorization
  const match = authorization === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(authorization)
  return match?.[1]
}

// Query parameters a key could be smuggled in; refused on sockets so keys never end up in URLs and logs.
const KEY_QUERY_PARAMS = new Set(['key', 'apikey', 'api_key', 'api-key', 'token', 'access_token', 'x-api-key'])

/** True when a browser `origin` may call us: listed, or the server's own (`scheme://host[:port]`). */
export function originAllowed (origin: string | undefined, allowed: ReadonlySet<string>, ownOrigin: string): boolean {
  return origin === undefined || allowed.has(origin) || origin === ownOrigin
}

/** True when the query carries something named like an API key. */
export function keyInQuery (query: unknown): boolean {
  return typeof query === 'object' && query !== null && Object.keys(query).some((name) => KEY_QUERY_PARAMS.has(name.toLowerCase()))
}

/**
 * Guards every route: browser origins against the allowlist, then the API key. Failures are
 * counted per address and rate limited; successes are not.
 */
export async function registerAuth (app: FastifyInstance, keys: KeyStore, tickets: TicketStore, corsOrigins: readonly string[]): Promise<void> {
  const allowed = new Set(corsOrigins)
  await app.register(cors, {
    origin: [...allowed],
    methods: ['GET', 'HEAD', 'POST', 'DELETE'],
    exposedHeaders: ['Retry-After', 'Content-Range', 'Accept-Ranges'],
    credentials: false,
    maxAge: 600,
  })
  await app.register(rateLimit, { global: false })
  const countFailure = app.createRateLimit({ max: AUTH_FAILURES_PER_WINDOW, timeWindow: AUTH_FAILURE_WINDOW_MS })
  app.decorateRequest('authenticated', false)

  app.addHook('onRequest', async (request, reply) => {
    if (reply.sent) return // a CORS preflight that @fastify/cors already answered
    const origin = request.headers.origin
    if (!originAllowed(origin, allowed, `${request.protocol}://${request.host}`)) throw new Errors.ORIGIN_NOT_ALLOWED(origin)
    if (request.routeOptions.config.socket === true && keyInQuery(request.query)) throw new Errors.KEY_IN_URL()
    request.authenticated = keys.verify(presentedKey(request))
    if (request.authenticated || request.routeOptions.config.public === true) return
    if (request.routeOptions.config.socket === true && request.headers.upgrade?.toLowerCase() === 'websocket') {
      request.authenticated = tickets.consume((request.query as { ticket?: string }).ticket)
      return // not authenticated yet: the socket handler waits for a first-message auth
    }
    const limit = await countFailure(request)
    if (!limit.isAllowed && limit.isExceeded) {
      reply.header('retry-after', limit.ttlInSeconds)
      throw new Errors.TOO_MANY_AUTH_FAILURES(limit.ttlInSeconds)
    }
    throw new Errors.UNAUTHORIZED()
  })

  app.post('/terminal/tickets', async () => tickets.issue())
}
