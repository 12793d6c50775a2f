import type { FastifyInstance } from 'fastify'
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import { Responses } from '../contract/responses.js'
import { Errors } from '../errors.js'
import { VERSION } from '../version.js'
import type { UpdateCoordinator } from './coordinator.js'

// The longest drain a caller may ask for.
const MAX_DRAIN_SEC = 3600

const UpdateBody = {
  anyOf: [
    { type: 'null' },
    { type: 'object', properties: { drain: { type: 'number', minimum: 0, maximum: MAX_DRAIN_SEC } } },
  ],
} as const

/**
 * POST /update (*compat*): 200 and then `onRestart` once the answer is sent, or devpilot's 409 when
 * a restart would lose work. From the 200 on, every other request (but GET /health) gets 503.
 */
export function registerUpdateRoutes (fastify: FastifyInstance, coordinator: UpdateCoordinator, onRestart: () => void): void {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  app.addHook('onRequest', async (request) => {
    if (coordinator.draining && !(request.method === 'GET' && request.url.split('?')[0] === '/health')) {
      throw new Errors.SERVER_DRAINING()
    }
  })

  app.post('/update', { schema: { body: UpdateBody, response: Responses.update } }, async (request, reply) => {
    const refusal = await coordinator.begin(request.body?.drain ?? 0)
    if (refusal) return reply.code(409).send({ ...refusal, code: new Errors.UPDATE_BLOCKED(refusal.error).code })
    reply.raw.once('finish', onRestart)
    return { status: 'updating', version: VERSION, message: 'Server will restart for update' }
  })
}
