import type { FastifyInstance } from 'fastify'
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import { Responses } from '../contract/responses.js'
import { AcpSessionParams } from './schemas.js'
import type { AcpSessionService } from './service.js'

/** POST/GET /acp/sessions, GET/DELETE /acp/sessions/:id, POST /acp/sessions/:id/prompts, GET /acp/sessions/:id/history. */
export function registerAcpSessionRoutes (fastify: FastifyInstance, service: AcpSessionService): void {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()

  app.post('/acp/sessions', { schema: { response: Responses.acpSessionCreated } }, async (request, reply) =>
    reply.code(201).send(await service.create(request.body)))

  app.get('/acp/sessions', { schema: { response: Responses.acpSessionList } }, async () => service.list())

  app.get('/acp/sessions/:id', { schema: { params: AcpSessionParams, response: Responses.acpSession } }, async (request) =>
    service.get(request.params.id))

  app.delete('/acp/sessions/:id', { schema: { params: AcpSessionParams, response: Responses.acpSession } }, async (request) =>
    await service.delete(request.params.id))

  app.post('/acp/sessions/:id/prompts', { schema: { params: AcpSessionParams, response: Responses.acpPrompt } }, async (request, reply) =>
    reply.code(202).send(service.prompt(request.params.id, request.body)))

  app.get('/acp/sessions/:id/history', { schema: { params: AcpSessionParams, response: Responses.acpSessionHistory } }, async (request) =>
    service.history(request.params.id))
}
