import type { FastifyInstance, FastifyReply } from 'fastify'

/**
 * Private Network Access (puffo-agent's "loopback bridge"): Chrome sends a preflight with
 * `Access-Control-Request-Private-Network: true` before an https page may call a loopback server;
 * for an allowed `--cors-origin` (only) the answer carries `Access-Control-Allow-Private-Network: true`.
 * Every preflight answer names that request header in `Vary`, so a cache never reuses one for the other.
 */
export function registerPrivateNetworkAccess (app: FastifyInstance, corsOrigins: readonly string[]): void {
  const allowed = new Set(corsOrigins)
  // Why onSend: @fastify/cors answers the preflight itself in onRequest; onSend still sees that answer.
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.method !== 'OPTIONS') return payload
    appendVary(reply, 'Access-Control-Request-Private-Network')
    if (request.headers['access-control-request-private-network'] === 'true' &&
      typeof request.headers.origin === 'string' && allowed.has(request.headers.origin)) {
      reply.header('access-control-allow-private-network', 'true')
    }
    return payload
  })
}

function appendVary (reply: FastifyReply, name: string): void {
  const current = reply.getHeader('vary')
  const names = typeof current === 'string' && current !== '' ? current.split(',').map((part) => part.trim()) : []
  if (names.includes('*') || names.some((part) => part.toLowerCase() === name.toLowerCase())) return
  reply.header('vary', [...names, name].join(', '))
}
