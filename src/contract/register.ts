// Puts the wire contract to work on an app: its response schemas serialize answers, and its
// document is served.
import type { FastifyInstance } from 'fastify'
import { registerApiDocs } from './docs-routes.js'
import { lazySerializerCompiler } from './lazy-serializer.js'

/** Serializes answers with the routes' response schemas (compiled on first use) and serves GET /openapi.json and GET /docs; call before the routes. */
export function useContract (app: FastifyInstance): void {
  app.setSerializerCompiler(lazySerializerCompiler)
  registerApiDocs(app)
}
