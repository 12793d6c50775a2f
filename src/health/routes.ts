import { hostname } from 'node:os'
import type { FastifyInstance } from 'fastify'
import { Responses } from '../contract/responses.js'
import type { JobManager } from '../jobs/manager.js'
import type { TerminalRegistry } from '../terminal/registry.js'
import type { UpdateCoordinator } from '../update/coordinator.js'
import { VERSION } from '../version.js'

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
      execution_modes: ['shell', 'acp'],
      persistent_shell_supported: false,
      persistent_shell_shells: { pwsh: false, powershell: false },
      persistent_shell_default_shell: null,
      persistent_shell_sessions: 0,
      persistent_shell_max_sessions: 0,
      persistent_shell_idle_timeout_seconds: 0,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      pid: process.pid,
      queue: jobs.stats(),
      draining: update.draining,
    }
  })
}
