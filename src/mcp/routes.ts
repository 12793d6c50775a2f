import type { FastifyInstance } from 'fastify'
import type { Logger } from '../logger.js'
import type { McpBackend } from './backend.js'
import { coalesceWrites } from './coalesce-writes.js'
import { McpSessions, type McpSessionLimits } from './sessions.js'

const SUMMARY = 'The MCP endpoint (Streamable HTTP): POST JSON-RPC messages, GET a server-sent event stream, DELETE ends the session'

/**
 * POST/GET/DELETE /mcp through the MCP SDK's Streamable HTTP transport. The app's onRequest hook
 * has already checked the Origin against the CORS allowlist and the API key (401 before any MCP message).
 */
export async function registerMcpRoutes (fastify: FastifyInstance, backend: McpBackend, log: Logger, limits: Partial<McpSessionLimits> = {}): Promise<void> {
  const sessions = new McpSessions(backend, log, limits)
  // Why preClose: open SSE streams would hold the HTTP server open.
  fastify.addHook('preClose', async () => sessions.close())
  // Why a child context: a body that is not JSON goes to the SDK as it is, which answers a JSON-RPC parse error.
  await fastify.register(async (child) => {
    child.removeAllContentTypeParsers()
    child.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
      try { done(null, JSON.parse(body as string)) } catch { done(null, body) }
    })
    child.route({
      method: ['GET', 'POST', 'DELETE'],
      url: '/mcp',
      schema: { summary: SUMMARY, tags: ['mcp'] },
      handler: async (request, reply) => {
        const header = request.headers['mcp-session-id']
        const lease = await sessions.lease(typeof header === 'string' ? header : undefined)
        // Why: the SDK returns once a message is dispatched, while an SSE answer or GET stream may stay open; the session is busy until it ends.
        const ended = new Promise((resolve) => reply.raw.once('close', resolve))
        try {
          // Why: headers set by earlier hooks (CORS for an allowed browser origin) are not written once hijacked.
          for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) reply.raw.setHeader(name, value)
          reply.hijack()
          coalesceWrites(reply.raw)
          await lease.transport.handleRequest(request.raw, reply.raw, request.method === 'POST' ? request.body ?? '' : undefined)
          await ended
        } catch (err) {
          request.log.error({ err }, 'mcp request failed')
          reply.raw.destroy()
        } finally {
          await sessions.release(lease)
        }
      },
    })
  })
}
