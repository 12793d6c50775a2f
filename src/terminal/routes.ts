import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type {} from '@fastify/websocket'
import { Responses } from '../contract/responses.js'
import { Errors } from '../errors.js'
import { registerTerminalPage } from './page.js'
import type { TerminalQuery, TerminalRequest } from './request.js'
import type { TerminalService } from './service.js'

export const TerminalQuerySchema = {
  type: 'object',
  properties: {
    workdir: { type: 'string', maxLength: 4096 },
    command: { type: 'string', maxLength: 16384 },
    shell: { type: 'string', maxLength: 1024 },
    cols: { type: 'string', maxLength: 16 },
    rows: { type: 'string', maxLength: 16 },
    session: { type: 'string', maxLength: 64 },
    readonly: { type: 'string', maxLength: 8 },
    ticket: { type: 'string', maxLength: 128 },
  },
} as const

const TerminalParams = {
  type: 'object',
  properties: { id: { type: 'string', maxLength: 64 } },
  required: ['id'],
} as const

/** GET /terminal (WebSocket), GET /terminals, DELETE /terminals/:id, and the web terminal page. */
export function registerTerminalRoutes (fastify: FastifyInstance, service: TerminalService): void {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  const prepared = new WeakMap<FastifyRequest, TerminalRequest>()

  app.get('/terminal', {
    websocket: true,
    config: { socket: true },
    schema: { querystring: TerminalQuerySchema, response: Responses.webSocket },
    preValidation: async (request) => {
      prepared.set(request, service.prepare(request.query as TerminalQuery))
    },
  }, async (socket, request) => {
    // Why the cast: the handler runs only after preValidation stored this request's terminal.
    await service.connect(socket, prepared.get(request) as TerminalRequest, request.authenticated, request.ip)
  })

  app.get('/terminals', { schema: { response: Responses.terminalList } }, async () => ({ terminals: service.registry.list() }))

  app.delete('/terminals/:id', { schema: { params: TerminalParams, response: Responses.terminalEnded } }, async (request) => {
    if (!await service.registry.end(request.params.id, 'closed')) throw new Errors.TERMINAL_NOT_FOUND()
    return { id: request.params.id, status: 'ended' }
  })

  registerTerminalPage(fastify)
}
