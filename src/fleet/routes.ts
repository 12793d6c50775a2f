import type { FastifyInstance } from 'fastify'
import type { Config } from '../config.js'
import type { JobManager } from '../jobs/manager.js'
import type { TerminalRegistry } from '../terminal/registry.js'
import { ServerMetrics } from './metrics.js'
import { registerPrivateNetworkAccess } from './private-network.js'

/**
 * The fleet's HTTP parts: GET /metrics (Prometheus text, behind the API key) and the hooks that feed
 * it, and Private Network Access preflights for the allowed CORS origins.
 */
export function registerFleetRoutes (app: FastifyInstance, jobs: JobManager, terminals: TerminalRegistry, config: Pick<Config, 'stateDir' | 'corsOrigins'>): ServerMetrics {
  registerPrivateNetworkAccess(app, config.corsOrigins)
  const metrics = new ServerMetrics(jobs, terminals)
  app.addHook('onResponse', async (request, reply) => {
    try {
      // Why: the route pattern, not the URL: one series per route, not one per job id.
      const route = request.routeOptions.url ?? 'unmatched'
      metrics.requestEnded(request.method, route, reply.statusCode, reply.elapsedTime / 1000)
    } catch (err) {
      request.log.error({ err }, 'metrics hook failed')
    }
  })
  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.registry.metrics()
    return reply.type(metrics.registry.contentType).send(text)
  })
  return metrics
}
