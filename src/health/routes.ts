import { hostname } from 'node:os'
import type { FastifyInstance } from 'fastify'
import { Responses } from '../contract/responses.js'
import type { JobManager } from '../jobs/manager.js'
import type { TerminalRegistry } from '../terminal/registry.js'
import type { UpdateCoordinator } from '../update/coordinator.js'
import { VERSION } from '../version.js'
import { sessionHealth, type SessionHealth } from '../sessions/health.js'
import { machineShells } from '../sessions/shells.js'

// devpilot's execution_modes and persistent_shell_* fields, with this machine's shells.
function sessionFields (jobs: JobManager): SessionHealth & { execution_modes: string[] } {
  const shells = machineShells()
  const pool = jobs.sessions
  const supported = shells.supported && pool !== undefined
  return {
    execution_modes: supported ? ['shell', 'acp', 'persistent_shell'] : ['shell', 'acp'],
    ...sessionHealth(supported ? shells : { ...shells, supported: false }, pool?.size ?? 0, pool?.maxSessions ?? 0, pool?.idleTimeoutMs ?? 0),
  }
}

/** GET /health: a minimal answer without a key (never 401), the full status with one. */
export function registerHealthRoutes (app: FastifyInstance, jobs: JobManager, update: UpdateCoordinator, terminals: TerminalRegistry, startedAt: number): void {
  app.get('/health', { config: { public: true }, schema: { response: Responses.health } }, async (request) => {
    if (!request.authenticated) return { status: 'ok', authenticated: false }
    return {
      status: 'ok',
      version: VERSION,
      hostname: hostname(),
      jobs: jobs.count(),
      cwd: process.cwd(),
      authenticated: true,
      terminal_supported: true,
      terminal_sessions: terminals.count,
      acp_supported: true,
      ...sessionFields(jobs),
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      pid: process.pid,
      queue: jobs.stats(),
      draining: update.draining,
      storage: jobs.storage(),
    }
  })
}
