import type { FastifyInstance, FastifyRequest } from 'fastify'
import rateLimit from '@fastify/rate-limit'
import type { Logger } from '../logger.js'

// Failed authentications allowed per address and window before answering 429.
const AUTH_FAILURES_PER_WINDOW = 30
const AUTH_FAILURE_WINDOW_MS = 60_000
// Log lines about failed authentications per window, all addresses together; the rest are counted
// and reported by the next line written, so a flood cannot fill the disk.
const AUTH_FAILURE_LOG_LINES_PER_WINDOW = 20
// How long a WebSocket waiting for its first-message auth keeps its route for the log (5 s + margin).
const SOCKET_ROUTE_MEMORY_MS = 10_000
const SOCKET_ROUTE = 'websocket (first-message auth)'
const MAX_REMEMBERED_ADDRESSES = 256

type Limiter = ReturnType<FastifyInstance['createRateLimit']>

/**
 * Failed authentications per client address, one count for HTTP requests and sockets on every
 * port (a wrong key in a socket's first message counts like a wrong header). Each failure is
 * logged at info with its address and route (never the key presented), at most 20 lines a minute.
 */
export class AuthFailures {
  readonly #limit: Limiter
  readonly #log: Logger
  readonly #socketRoutes = new Map<string, Array<{ route: string, at: number }>>()
  #windowStart = 0
  #linesInWindow = 0
  #notLogged = 0

  private constructor (limit: Limiter, log: Logger) {
    this.#limit = limit
    this.#log = log
  }

  /** Registers @fastify/rate-limit (not as a global limit) on `app` and counts with it. */
  static async register (app: FastifyInstance, log: Logger): Promise<AuthFailures> {
    await app.register(rateLimit, { global: false })
    return new AuthFailures(app.createRateLimit({
      max: AUTH_FAILURES_PER_WINDOW,
      timeWindow: AUTH_FAILURE_WINDOW_MS,
      keyGenerator: (request) => request.ip,
    }), log)
  }

  /**
   * Counts one failure of `address` on `route` and logs it; returns the seconds to wait when it is
   * now over the limit, else null. Without a route (a socket's first message), the route noted by
   * `expectSocket` for that address is used.
   */
  async count (address: string, route?: string): Promise<number | null> {
    this.#logFailure(address, route ?? this.#takeSocketRoute(address))
    return this.#check(address, true)
  }

  /** The seconds `address` must wait when it is over the limit now, else null; counts nothing. */
  async retryAfter (address: string): Promise<number | null> {
    return this.#check(address, false)
  }

  /** Notes that a socket of `address` on `route` will authenticate with its first message, so a failure there is logged with its route. */
  expectSocket (address: string, route: string): void {
    const now = Date.now()
    const pending = (this.#socketRoutes.get(address) ?? []).filter((entry) => now - entry.at < SOCKET_ROUTE_MEMORY_MS)
    pending.push({ route, at: now })
    this.#socketRoutes.set(address, pending)
    if (this.#socketRoutes.size > MAX_REMEMBERED_ADDRESSES) this.#forgetOldSocketRoutes(now)
  }

  #forgetOldSocketRoutes (now: number): void {
    for (const [address, pending] of this.#socketRoutes) {
      if (pending.every((entry) => now - entry.at >= SOCKET_ROUTE_MEMORY_MS)) this.#socketRoutes.delete(address)
    }
  }

  // Why oldest first and forgotten after 10 s: sockets of one address fail in the order they were
  // opened within their 5 s, and a socket that authenticated leaves no other trace to clear it by.
  #takeSocketRoute (address: string): string {
    const now = Date.now()
    const pending = (this.#socketRoutes.get(address) ?? []).filter((entry) => now - entry.at < SOCKET_ROUTE_MEMORY_MS)
    const entry = pending.shift()
    if (pending.length === 0) this.#socketRoutes.delete(address)
    else this.#socketRoutes.set(address, pending)
    return entry?.route ?? SOCKET_ROUTE
  }

  #logFailure (address: string, route: string): void {
    const now = Date.now()
    if (now - this.#windowStart >= AUTH_FAILURE_WINDOW_MS) {
      this.#windowStart = now
      this.#linesInWindow = 0
    }
    if (this.#linesInWindow >= AUTH_FAILURE_LOG_LINES_PER_WINDOW) {
      this.#notLogged++
      return
    }
    this.#linesInWindow++
    const notLogged = this.#notLogged
    this.#notLogged = 0
    this.#log.info({ address, route, ...(notLogged > 0 ? { notLogged } : {}) }, 'authentication failed')
  }

  async #check (address: string, increment: boolean): Promise<number | null> {
    // Why the stand-in request: the limiter reads only `ip` (our keyGenerator) and `routeOptions.config`.
    const request = { ip: address, routeOptions: { config: {} } } as unknown as FastifyRequest
    const limit = await this.#limit(request, { increment })
    if (limit.isAllowed) return null
    // Why two tests: after counting, the attempt that went past the limit is refused; when only
    // reading, the next attempt would go past it once none remain.
    const over = increment ? limit.isExceeded : limit.remaining === 0
    return over ? Math.max(1, limit.ttlInSeconds) : null
  }
}
