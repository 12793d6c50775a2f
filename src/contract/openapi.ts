// Builds the OpenAPI 3.1 document and the Swagger UI from the routes the app registered. Built on
// first use, in a separate Fastify instance that replays the routes' schemas.
// Why lazy: loading @fastify/swagger and @fastify/swagger-ui (+ @fastify/static, yaml) at start-up
// costs start-up time and idle memory (docs/benchmarks.md) for a page few callers open.
import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify'
import { ErrorSchema } from './error.js'
import { JobEventSchema } from './events.js'
import { HealthSchema } from './health.js'
import { AcpEventSchema, JobSchema } from './job.js'
import { SessionInfoSchema } from './session.js'
import { FileEntrySchema } from './files.js'
import { AcpSessionSchema } from './acp-session.js'
import { TerminalInfoSchema } from './terminal.js'
import { strictSchema } from './responses.js'
import { ROUTE_DOCS } from './route-docs.js'

/** What the document needs of a registered route. */
export interface RecordedRoute {
  method: string
  url: string
  schema: Record<string, unknown> | undefined
  isPublic: boolean
  isWebSocket: boolean
}

/** The version of the wire contract (info.version); changes when a shape changes incompatibly. */
export const CONTRACT_VERSION = '1'

// Shapes that are not the whole answer of one route (stream events, sessions) are listed by name.
const NAMED_SCHEMAS = {
  Job: JobSchema,
  AcpEvent: AcpEventSchema,
  JobEvent: JobEventSchema,
  Health: HealthSchema,
  TerminalInfo: TerminalInfoSchema,
  SessionInfo: SessionInfoSchema,
  FileEntry: FileEntrySchema,
  AcpSession: AcpSessionSchema,
  Error: ErrorSchema,
}

// The tag of a route, by the first segment of its path.
const TAGS: Readonly<Record<string, string>> = {
  exec: 'jobs',
  acp: 'acp sessions',
  jobs: 'jobs',
  sessions: 'sessions',
  files: 'files',
  terminal: 'terminals',
  terminals: 'terminals',
  ui: 'terminals',
  '': 'terminals',
  health: 'server',
  update: 'server',
  metrics: 'server',
  'openapi.json': 'docs',
  docs: 'docs',
}

function withStrictResponses (response: unknown): unknown {
  if (typeof response !== 'object' || response === null) return response
  return Object.fromEntries(Object.entries(response).map(([status, entry]) => {
    const content = (entry as { content?: Record<string, { schema: unknown }> }).content
    if (!content) return [status, strictSchema(entry)]
    return [status, { content: Object.fromEntries(Object.entries(content).map(([type, media]) => [type, { ...media, schema: strictSchema(media.schema) }])) }]
  }))
}

function documentedSchema (route: RecordedRoute): Record<string, unknown> {
  const docs = ROUTE_DOCS[`${route.method} ${route.url}`] ?? {}
  const schema = { ...route.schema, ...docs }
  // Why: @fastify/websocket hides its routes from the document; ours are part of the API.
  if (route.isWebSocket) delete schema.hide
  if (schema.response !== undefined) schema.response = withStrictResponses(schema.response)
  schema.tags ??= [TAGS[route.url.split('/')[1] ?? ''] ?? 'other']
  // Public routes answer without a key (GET /health says more with one).
  if (route.isPublic) schema.security = route.url === '/health' ? [{}, { apiKey: [] }, { bearer: [] }] : []
  return schema
}

// The Swagger UI page as an operation of the document (it is not replayed as a route).
function documentedOperation (route: RecordedRoute): Record<string, unknown> {
  return {
    summary: ROUTE_DOCS[`GET ${route.url}`]?.summary,
    tags: ['docs'],
    security: [],
    responses: { 200: { description: 'the Swagger UI page', content: { 'text/html': { schema: { type: 'string' } } } } },
  }
}

/** A Fastify instance serving only the document (`.swagger()`) and the Swagger UI under `prefix`. */
export async function buildDocsServer (routes: readonly RecordedRoute[], prefix: string): Promise<FastifyInstance> {
  const [{ default: swagger }, { default: swaggerUi }] = await Promise.all([import('@fastify/swagger'), import('@fastify/swagger-ui')])
  const docs = Fastify({ logger: false })
  // Why: the replayed routes never run; their schemas are only read by @fastify/swagger.
  docs.setValidatorCompiler(() => () => true)
  docs.setSerializerCompiler(() => (data) => JSON.stringify(data))
  await docs.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'agent-runtime',
        // Why not the server's version: the document is public, and GET /health tells it only with a key.
        version: CONTRACT_VERSION,
        description: 'The HTTP API of agent-runtime (docs/api.md). Errors are `{error, code}` (docs/errors.md).',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          bearer: { type: 'http', scheme: 'bearer' },
        },
        schemas: NAMED_SCHEMAS as Record<string, object>,
      },
      security: [{ apiKey: [] }, { bearer: [] }],
    },
  })
  // Why: the UI's own routes live under `prefix` in this instance; its page is added by hand below.
  for (const route of routes.filter((r) => !r.url.startsWith(prefix))) {
    docs.route({ method: route.method as RouteOptions['method'], url: route.url, schema: documentedSchema(route), handler: async () => null })
  }
  await docs.register(swaggerUi, { routePrefix: prefix, staticCSP: true, uiConfig: { deepLinking: true } })
  await docs.ready()
  const ui = routes.find((r) => r.url === prefix)
  // The document object is built once and cached: both /openapi.json and the UI's /docs/json serve it.
  if (ui) (docs.swagger() as { paths: Record<string, unknown> }).paths[prefix] = { get: documentedOperation(ui) }
  return docs
}
