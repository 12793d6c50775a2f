import { randomUUID } from 'node:crypto'
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { Errors } from '../errors.js'
import type { Logger } from '../logger.js'
import type { McpBackend } from './backend.js'
import { SessionEventStore } from './event-store.js'
import { createMcpServer } from './server.js'

// The most MCP sessions at once: a new one ends the least recently used idle one, or is refused
// (429 MCP_TOO_MANY_SESSIONS) when every session has a request in progress.
export const MAX_MCP_SESSIONS = 64
// A session with no request for this long (and none in progress, e.g. an open GET stream) is ended.
export const MCP_SESSION_IDLE_MS = 30 * 60 * 1000
// How often idle sessions are looked for.
const SWEEP_EVERY_MS = 60 * 1000
// What a refused initialize is told to wait (Retry-After).
const RETRY_AFTER_SEC = 60

/** Limits of the MCP sessions; tests make them small. */
export interface McpSessionLimits {
  maxSessions: number
  idleMs: number
  /** The clock (epoch ms); tests move it. */
  now: () => number
}

interface Session {
  server: McpServer
  transport: StreamableHTTPServerTransport
  lastUsedAt: number
  /** Requests of this session being handled now (an open GET stream counts until it ends). */
  inFlight: number
}

/** A transport for one request; `fresh` when it was made for it (an initialize, or a refusal the SDK writes). */
export interface SessionLease {
  transport: StreamableHTTPServerTransport
  fresh: boolean
  session?: Session
}

/**
 * The live MCP sessions of the HTTP endpoint, by `Mcp-Session-Id`: each has its own MCP server and
 * Streamable HTTP transport (with a replay store for resumable SSE). Sessions idle too long are
 * ended; at most `maxSessions` live at once (the least recently used idle one makes room for a
 * new one). Owns them; `close()` ends all.
 */
export class McpSessions {
  readonly #live = new Map<string, Session>()
  readonly #backend: McpBackend
  readonly #log: Logger
  readonly #limits: McpSessionLimits
  readonly #sweeper: NodeJS.Timeout
  // Initializes being handled: they count against the limit before their session exists.
  #opening = 0
  #closed = false

  constructor (backend: McpBackend, log: Logger, limits: Partial<McpSessionLimits> = {}) {
    this.#backend = backend
    this.#log = log
    this.#limits = { maxSessions: MAX_MCP_SESSIONS, idleMs: MCP_SESSION_IDLE_MS, now: Date.now, ...limits }
    this.#sweeper = setInterval(() => { this.sweep() }, Math.min(SWEEP_EVERY_MS, this.#limits.idleMs))
    this.#sweeper.unref()
  }

  get size (): number { return this.#live.size }

  /**
   * The session's transport; without an id, a new one (the SDK answers anything but initialize
   * with its own error). Every lease must be given back with `release`.
   */
  async lease (sessionId: string | undefined): Promise<SessionLease> {
    if (this.#closed) throw new Errors.SERVER_DRAINING()
    if (sessionId !== undefined) {
      const session = this.#live.get(sessionId)
      if (!session) throw new Errors.MCP_SESSION_NOT_FOUND()
      session.inFlight++
      session.lastUsedAt = this.#limits.now()
      return { transport: session.transport, fresh: false, session }
    }
    this.sweep()
    // Why evict: most clients never DELETE their session, so short-lived clients would otherwise fill the table.
    if (this.#live.size + this.#opening >= this.#limits.maxSessions) this.#evictLeastRecentlyUsed()
    if (this.#live.size + this.#opening >= this.#limits.maxSessions) {
      throw Object.assign(new Errors.MCP_TOO_MANY_SESSIONS(this.#limits.maxSessions), { retryAfterSec: RETRY_AFTER_SEC })
    }
    this.#opening++
    const server = createMcpServer(this.#backend, this.#log)
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      eventStore: new SessionEventStore(),
      onsessioninitialized: (id) => { this.#add(id, { server, transport, lastUsedAt: this.#limits.now(), inFlight: 0 }) },
    })
    transport.onclose = () => {
      if (transport.sessionId !== undefined) this.#live.delete(transport.sessionId)
    }
    transport.onerror = (err) => this.#log.debug({ err }, 'mcp transport error')
    try {
      await server.connect(transport)
    } catch (err) {
      this.#opening--
      throw err
    }
    return { transport, fresh: true }
  }

  /** Gives a lease back once its request is answered; ends a transport made for a request that did not start a session. */
  async release (lease: SessionLease): Promise<void> {
    if (lease.session) {
      lease.session.inFlight--
      lease.session.lastUsedAt = this.#limits.now()
      return
    }
    this.#opening--
    if (lease.transport.sessionId === undefined) await lease.transport.close()
  }

  /** Ends every session unused for the idle time with no request in progress; the number ended. */
  sweep (): number {
    const expiredBefore = this.#limits.now() - this.#limits.idleMs
    let ended = 0
    for (const [id, session] of this.#live) {
      if (session.inFlight > 0 || session.lastUsedAt > expiredBefore) continue
      this.#end(id, session, 'mcp session expired')
      ended++
    }
    return ended
  }

  // Ends the least recently used session that has no request in progress, if any.
  #evictLeastRecentlyUsed (): void {
    let oldest: [string, Session] | undefined
    for (const entry of this.#live) {
      if (entry[1].inFlight === 0 && (oldest === undefined || entry[1].lastUsedAt < oldest[1].lastUsedAt)) oldest = entry
    }
    if (oldest === undefined) return
    this.#end(oldest[0], oldest[1], 'mcp session evicted (session limit)')
  }

  #end (id: string, session: Session, why: string): void {
    this.#live.delete(id)
    this.#log.debug({ mcpSessionId: id }, why)
    session.server.close().catch((err: unknown) => this.#log.warn({ err }, 'closing an mcp session failed'))
  }

  #add (id: string, session: Session): void {
    this.#live.set(id, session)
    this.#log.debug({ mcpSessionId: id }, 'mcp session started')
  }

  /** Ends every session (their open SSE streams too). Idempotent. */
  async close (): Promise<void> {
    this.#closed = true
    clearInterval(this.#sweeper)
    const sessions = [...this.#live.values()]
    this.#live.clear()
    await Promise.all(sessions.map(async (s) => s.server.close().catch((err: unknown) => this.#log.warn({ err }, 'closing an mcp session failed'))))
  }
}
