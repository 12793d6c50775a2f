import type { FastifyInstance, FastifyRequest } from 'fastify'
import rateLimit from '@fastify/rate-limit'

// Failed authentications allowed per address and window before answering 429.
const AUTH_FAILURES_PER_WINDOW = 30
const AUTH_FAILURE_WINDOW_MS = 60_000

type Limiter = ReturnType<FastifyInstance['createRateLimit']>

/**
 * Failed authentications per client address, one count for HTTP requests and sockets on every
 * port (a wrong key in a socket's first message counts like a wrong header).
 */
export class AuthFailures {
  readonly #limit: Limiter

  private constructor (limit: Limiter) {
    this.#limit = limit
  }

  /** Registers @fastify/rate-limit (not as a global limit) on `app` and counts with it. */
  static async register (app: FastifyInstance): Promise<AuthFailures> {
    await app.register(rateLimit, { global: false })
    return new AuthFailures(app.createRateLimit({
      max: AUTH_FAILURES_PER_WINDOW,
      timeWindow: AUTH_FAILURE_WINDOW_MS,
      keyGenerator: (request) => request.ip,
    }))
  }

  /** Counts one failure of `address`; returns the seconds to wait when it is now over the limit, else null. */
  async count (address: string): Promise<number | null> {
    return this.#check(address, true)
  }

  /** The seconds `address` must wait when it is over the limit now, else null; counts nothing. */
  async retryAfter (address: string): Promise<number | null> {
    return this.#check(address, false)
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
