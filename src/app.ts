import type { Server } from 'node:http'
import { join } from 'node:path'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import websocket from '@fastify/websocket'
import { ensureStateDir, KeyStore } from './auth/key-store.js'
import { AuthFailures } from './auth/failures.js'
import { registerAuth } from './auth/routes.js'
import { SocketAuth } from './auth/socket-auth.js'
import { TicketStore } from './auth/tickets.js'
import type { Config } from './config.js'
import { BODY_LIMIT_BYTES, Errors, MAX_JSON_DEPTH, toErrorResponse } from './errors.js'
import { registerFileRoutes } from './files/routes.js'
import { registerFleetRoutes } from './fleet/routes.js'
import { registerHealthRoutes } from './health/routes.js'
import { registerBodyDeadline } from './http/body-deadline.js'
import { registerHttpGuards } from './http/guards.js'
import { KEEP_ALIVE_TIMEOUT_MS, MAX_PARAM_LENGTH, NODE_SERVER_OPTIONS } from './http/limits.js'
import { answerClientError, answerExpectation, answerFrameworkError } from './http/refusals.js'
import { answerWebSocketError } from './http/socket-errors.js'
import { JobManager } from './jobs/manager.js'
import { registerJobRoutes } from './jobs/routes.js'
import { registerSessionRoutes } from './sessions/routes.js'
import { registerAcpSessionRoutes } from './acp-sessions/routes.js'
import { AcpSessionService } from './acp-sessions/service.js'
import { localBackend } from './mcp/local-backend.js'
import { registerMcpRoutes } from './mcp/routes.js'
import { JobStore } from './jobs/store.js'
import { jsonNestedDeeperThan } from './lib/json-depth.js'
import type { Logger } from './logger.js'
import { UpdateCoordinator } from './update/coordinator.js'
import { registerUpdateRoutes } from './update/routes.js'
import { JobEventSource } from './jobs/event-source.js'
import { registerStreamRoutes } from './jobs/stream-routes.js'
import { createTerminalPortServer } from './terminal/port-server.js'
import { TerminalRecords } from './terminal/records.js'
import { TerminalRegistry } from './terminal/registry.js'
import { registerTerminalRoutes } from './terminal/routes.js'
import { TerminalService } from './terminal/service.js'
import { validatorCompiler } from './validation.js'
import { useContract } from './contract/register.js'

const JOBS_DB_FILE = 'jobs.db'
const TERMINALS_DIR = 'terminals'
const WS_MAX_MESSAGE_BYTES = 64 * 1024

declare module 'fastify' {
  interface FastifyInstance {
    /** devpilot's terminal port (`--terminal-port`), built but not listening; server.ts listens on it. */
    terminalPortServer: Server | null
  }
}

/** What the process running the app decides. */
export interface AppHooks {
  /** Called after POST /update answered 200 and the jobs were detached: close the app, then exit 42. */
  onRestart?: () => void
}

/** Builds the whole server (not listening): key, job store, job manager, routes; `close()` stops them all. */
export async function buildApp (config: Config, log: Logger, env: NodeJS.ProcessEnv = process.env, hooks: AppHooks = {}): Promise<FastifyInstance> {
  ensureStateDir(config.stateDir)
  const keys = new KeyStore(config.stateDir, env, log.child({ component: 'auth' }))
  const store = new JobStore(join(config.stateDir, JOBS_DB_FILE), (message) => {
    log.warn({ component: 'jobs', err: message }, 'the SQLite checkpoint worker failed; checkpoints run on the main thread again')
  })
  const jobs = new JobManager(config, store, log.child({ component: 'jobs' }))

  const app = Fastify({
    loggerInstance: log.child({ component: 'http' }) as FastifyBaseLogger,
    // Why: a log line per poll would be megabytes a second; job lifecycle events are logged instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    // Why 0: bodies get their own deadline (http/body-deadline.ts) that streamed uploads are exempt from.
    requestTimeout: 0,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
    ...(config.tls ? { https: { ...NODE_SERVER_OPTIONS, cert: config.tls.cert, key: config.tls.key } } : { http: NODE_SERVER_OPTIONS }),
  })
  app.server.on('checkExpectation', answerExpectation)
  app.addHook('onClose', async () => {
    await jobs.close()
    store.close()
    keys.close()
  })
  app.setValidatorCompiler(validatorCompiler)

  // Why: devpilot parsed every body as JSON whatever its Content-Type (curl -d sends a form type).
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') done(null, undefined)
    else if (jsonNestedDeeperThan(body as string, MAX_JSON_DEPTH)) done(new Errors.JSON_TOO_DEEP(MAX_JSON_DEPTH), undefined)
    else parseJson(request, body as string, done)
  })
  app.setErrorHandler((err, request, reply) => {
    const { status, body, retryAfterSec } = toErrorResponse(err)
    if (status >= 500) request.log.error({ err }, 'request failed')
    if (retryAfterSec !== undefined) reply.header('retry-after', retryAfterSec)
    return reply.code(status).send(body)
  })
  app.setNotFoundHandler(() => { throw new Errors.NOT_FOUND() })
  registerHttpGuards(app)
  registerBodyDeadline(app)
  // The wire contract (src/contract): response serializers, GET /openapi.json and GET /docs; before every route.
  useContract(app)

  const tickets = new TicketStore()
  const failures = await AuthFailures.register(app, log.child({ component: 'auth' }))
  const socketAuth = new SocketAuth(keys, failures)
  const events = new JobEventSource(jobs)
  const terminalLog = log.child({ component: 'terminal' })
  const terminals = new TerminalService(
    new TerminalRegistry(config.maxTerminals, {
      idleMs: config.terminalIdleTimeoutMs,
      lifetimeMs: config.terminalLifetimeMs,
      orphanTtlMs: config.terminalOrphanTtlMs,
    }, terminalLog, new TerminalRecords(join(config.stateDir, TERMINALS_DIR), terminalLog)),
    socketAuth, terminalLog)
  const terminalPortServer = config.terminalPort
    ? createTerminalPortServer({ service: terminals, socketAuth, tickets, corsOrigins: config.corsOrigins, tls: config.tls, log: terminalLog })
    : null
  app.decorate('terminalPortServer', terminalPortServer)
  // Why: open streams, long-polls and terminal sockets would hold the HTTP server open; they end
  // first — and before @fastify/websocket's own preClose closes every socket without a word.
  app.addHook('preClose', async () => {
    events.close()
    jobs.releaseWaiters()
    terminalPortServer?.close()
    await terminals.registry.close()
  })
  await app.register(websocket, { options: { maxPayload: WS_MAX_MESSAGE_BYTES }, errorHandler: answerWebSocketError })
  const update = new UpdateCoordinator()
  for (const blocker of jobs.updateBlockers()) update.addBlocker(blocker)
  update.addBlocker({
    error: 'cannot update while terminal sessions are active',
    countKey: 'terminal_sessions',
    count: () => terminals.registry.count,
    setAccepting: (accepting) => terminals.registry.setAccepting(accepting),
  })
  registerUpdateRoutes(app, update, () => {
    jobs.detach()
      .then(() => hooks.onRestart?.())
      .catch((err: unknown) => log.error({ err }, 'restart for update failed'))
  })
  await registerAuth(app, keys, tickets, failures, config.corsOrigins)
  registerHealthRoutes(app, jobs, update, terminals.registry, Date.now())
  registerJobRoutes(app, config, jobs, events)
  registerStreamRoutes(app, events, jobs, socketAuth)
  registerTerminalRoutes(app, terminals)
  registerFleetRoutes(app, jobs, terminals.registry, config)
  await registerFileRoutes(app, config)
  if (jobs.sessions) registerSessionRoutes(app, jobs.sessions)
  if (jobs.acpSessions) registerAcpSessionRoutes(app, new AcpSessionService(jobs.acpSessions, jobs, process.cwd()))
  await registerMcpRoutes(app, localBackend(config, jobs), log.child({ component: 'mcp' }))
  jobs.recover()
  terminals.registry.endLeftovers()
  return app
}
