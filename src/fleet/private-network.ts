import type { FastifyInstance } from 'fastify'

/**
 * Private Network Access (puffo-agent's "loopback bridge"): Chrome sends a preflight with
 * `Access-Control-Request-Private-Network: true` before an https page may call a loopback server;
 * for an allowed `--cors-origin` (only) the answer carries `Access-Control-Allow-Private-Network: true`.
 */
export function registerPrivateNetworkAccess (app: FastifyInstance, corsOrigins: readonly string[]): void {
  const allowed = new Set(corsOrigins)
  // Why onSend: @fastify/cors answers the preflight itself in onRequest; onSend still sees that answer.
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.method === 'OPTIONS' &&
      request.headers['access-control-request-private-network'] === 'true' &&
      typeof request.headers.origin === 'string' && allowed.has(request.headers.origin)) {
      reply.header('access-control-allow-private-network', 'true')
    }
    return payload
  })
}
