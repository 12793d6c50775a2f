// GET /openapi.json and GET /docs: the API described by the routes' own schemas.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { RecordedRoute } from './openapi.js'

/** Where the Swagger UI is served. */
export const DOCS_PREFIX = '/docs'

// Public like the web terminal page: the document holds no secret (the page asks for the key to try requests).
const PUBLIC = { public: true }

/**
 * Records every route registered after this call and serves their document at GET /openapi.json
 * and the Swagger UI at GET /docs; both are built on the first request.
 */
export function registerApiDocs (app: FastifyInstance): void {
  const routes: RecordedRoute[] = []
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      // Why: Fastify adds a HEAD route for every GET; the document lists the GET.
      if (method === 'HEAD') continue
      routes.push({ method, url: route.url, schema: route.schema as Record<string, unknown> | undefined, isPublic: route.config?.public === true, isWebSocket: route.websocket === true })
    }
  })
  let docsServer: Promise<FastifyInstance> | undefined
  const docs = async (): Promise<FastifyInstance> => {
    // Why a dynamic import: the document's modules are loaded with it, not at start-up.
    docsServer ??= import('./openapi.js').then(({ buildDocsServer }) => buildDocsServer(routes, DOCS_PREFIX))
    try {
      return await docsServer
    } catch (err) {
      docsServer = undefined
      throw err
    }
  }
  app.addHook('onClose', async () => { await (await docsServer?.catch(() => undefined))?.close() })

  app.get('/openapi.json', { config: PUBLIC }, async () => (await docs()).swagger())
  const forward = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const answer = await (await docs()).inject({ method: 'GET', url: request.url })
    for (const name of ['content-type', 'content-security-policy', 'location', 'cache-control', 'etag', 'last-modified']) {
      const value = answer.headers[name]
      if (value !== undefined) reply.header(name, value)
    }
    return reply.code(answer.statusCode).send(answer.rawPayload)
  }
  app.get(DOCS_PREFIX, { config: PUBLIC }, forward)
  app.get(`${DOCS_PREFIX}/*`, { config: PUBLIC, schema: { hide: true } }, forward)
}
