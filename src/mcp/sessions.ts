import { randomUUID } from 'node:crypto'
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { Errors } from '../errors.js'
import type { Logger } from '../logger.js'
import type { McpBackend } from './backend.js'
import { SessionEventStore } from './event-store.js'
import { createMcpServer } from './server.js'

// The most MCP sessions kept at once; a new one ends the least recently used (its client re-initializes).
export const MAX_MCP_SESSIONS = 64

interface Session { server: McpServer, transport: StreamableHTTPServerTransport }

/** A transport for one request, and whether it was made for it (an initialize, or a refusal the SDK writes). */
export interface SessionLease { transport: StreamableHTTPServerTransport, fresh: boolean }

/**
 * The live MCP sessions of the HTTP endpoint, by `Mcp-Session-Id`: each has its own MCP server and
 * Streamable HTTP transport (with a replay store for resumable SSE). Owns them; `close()` ends all.
 */
export class McpSessions {
  readonly #live = new Map<string, Session>()
  readonly #backend: McpBackend
  readonly #log: Logger
  #closed = false

  constructor (backend: McpBackend, log: Logger) {
    this.#backend = backend
    this.#log = log
  }

  get size (): number { return this.#live.size }

  /** The session's transport; without an id, a new one (the SDK answers anything but initialize with its own error). */
  async lease (sessionId: string | undefined): Promise<SessionLease> {
    if (this.#closed) throw new Errors.SERVER_DRAINING()
    if (sessionId !== undefined) {
      const session = this.#live.get(sessionId)
      if (!session) throw new Errors.MCP_SESSION_NOT_FOUND()
      // Why delete + set: a Map keeps insertion order, so the first entry is the least recently used.
      this.#live.delete(sessionId)
      this.#live.set(sessionId, session)
      return { transport: session.transport, fresh: false }
    }
    const server = createMcpServer(this.#backend, this.#log)
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      eventStore: new SessionEventStore(),
      onsessioninitialized: (id) => { this.#add(id, { server, transport }) },
    })
    transport.onclose = () => {
      if (transport.sessionId !== undefined) this.#live.delete(transport.sessionId)
    }
    transport.onerror = (err) => this.#log.debug({ err }, 'mcp transport error')
    await server.connect(transport)
    return { transport, fresh: true }
  }

  /** Ends a transport made for a request that did not start a session. */
  async discard (lease: SessionLease): Promise<void> {
    if (lease.fresh && lease.transport.sessionId === undefined) await lease.transport.close()
  }

  #add (id: string, session: Session): void {
    this.#live.set(id, session)
    this.#log.debug({ mcpSessionId: id }, 'mcp session started')
    while (this.#live.size > MAX_MCP_SESSIONS) {
      const [oldest, evicted] = this.#live.entries().next().value as [string, Session]
      this.#live.delete(oldest)
      evicted.server.close().catch((err: unknown) => this.#log.warn({ err }, 'closing an evicted mcp session failed'))
    }
  }

  /** Ends every session (their open SSE streams too). Idempotent. */
  async close (): Promise<void> {
    this.#closed = true
    const sessions = [...this.#live.values()]
    this.#live.clear()
    await Promise.all(sessions.map(async (s) => s.server.close().catch((err: unknown) => this.#log.warn({ err }, 'closing an mcp session failed'))))
  }
}
