import type { FastifyInstance, FastifyRequest } from 'fastify'
import cors from '@fastify/cors'
import { Responses } from '../contract/responses.js'
import { Errors, tooManyAuthFailures } from '../errors.js'
import type { AuthFailures } from './failures.js'
import type { KeyStore } from './key-store.js'
import { keyInQuery, originAllowed, presentedKey } from './request-key.js'
import type { TicketStore } from './tickets.js'

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

/** What a log line names as the route of a request: method and route pattern, or the path; never the query (it may hold a ticket). */
export function routeOf (request: Pick<FastifyRequest, 'method' | 'url' | 'routeOptions'>): string {
  const path = request.routeOptions.url ?? request.url.split('?')[0] ?? ''
  return `${request.method} ${path.slice(0, 200)}`
}

/**
 * Guards every route: browser origins against the allowlist, then the API key. Failures are
 * counted per address and rate limited; successes are not. A socket that will authenticate with
 * its first message is refused at the upgrade while its address is over the limit.
 */
export async function registerAuth (app: FastifyInstance, keys: KeyStore, tickets: TicketStore, failures: AuthFailures, corsOrigins: readonly string[]): Promise<void> {
  const allowed = new Set(corsOrigins)
  await app.register(cors, {
    origin: [...allowed],
    // Why PUT: a dashboard uploads files with PUT /files.
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
    exposedHeaders: ['Retry-After', 'Content-Range', 'Accept-Ranges', 'ETag', 'Mcp-Session-Id'],
    credentials: false,
    maxAge: 600,
  })
  app.decorateRequest('authenticated', false)

  app.addHook('onRequest', async (request, reply) => {
    if (reply.sent) return // a CORS preflight that @fastify/cors already answered
    const origin = request.headers.origin
    if (!originAllowed(origin, allowed, `${request.protocol}://${request.host}`)) throw new Errors.ORIGIN_NOT_ALLOWED(origin)
    if (request.routeOptions.config.socket === true && keyInQuery(request.query)) throw new Errors.KEY_IN_URL()
    const presented = presentedKey(request)
    request.authenticated = keys.verify(presented)
    if (request.authenticated || request.routeOptions.config.public === true) return
    // Why only without a key: first-message auth is for browsers, which cannot send one with the
    // upgrade; a client that sent a wrong key is refused now, not after the first-message wait.
    if (presented === undefined && request.routeOptions.config.socket === true && request.headers.upgrade?.toLowerCase() === 'websocket') {
      request.authenticated = tickets.consume((request.query as { ticket?: string }).ticket)
      if (request.authenticated) return
      const retryAfterSec = await failures.retryAfter(request.ip)
      if (retryAfterSec !== null) throw tooManyAuthFailures(retryAfterSec)
      failures.expectSocket(request.ip, routeOf(request))
      return // not authenticated yet: the socket handler waits for a first-message auth
    }
    const retryAfterSec = await failures.count(request.ip, routeOf(request))
    if (retryAfterSec !== null) throw tooManyAuthFailures(retryAfterSec)
    throw new Errors.UNAUTHORIZED()
  })

  app.post('/terminal/tickets', { schema: { response: Responses.ticket } }, async () => tickets.issue())
}
