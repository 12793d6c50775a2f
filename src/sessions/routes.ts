import type { FastifyInstance } from 'fastify'
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import { Responses } from '../contract/responses.js'
import { Errors } from '../errors.js'
import type { SessionPool } from './pool.js'
import { SessionParams } from './schemas.js'

/**
 * GET /sessions (a bare array sorted by key), GET /sessions/:key, DELETE /sessions/:key; each info
 * object is devpilot's (§1.9) plus `cwd`, `pid`, the running job's id and the queued ones.
 */
export function registerSessionRoutes (fastify: FastifyInstance, pool: SessionPool): void {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()

  app.get('/sessions', { schema: { response: Responses.sessionList } }, async () =>
    pool.list().sort((a, b) => a.sessionKey < b.sessionKey ? -1 : a.sessionKey > b.sessionKey ? 1 : 0))

  app.get('/sessions/*', { schema: { params: SessionParams, response: Responses.session } }, async (request) => {
    const info = pool.info(request.params['*'])
    if (!info) throw new Errors.SESSION_NOT_FOUND()
    return info
  })

  app.delete('/sessions/*', { schema: { params: SessionParams, response: Responses.sessionDeleted } }, async (request) => {
    const key = request.params['*']
    if (!await pool.delete(key)) throw new Errors.SESSION_NOT_FOUND()
    return { deleted: true, sessionKey: key }
  })
}
