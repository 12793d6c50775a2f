import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type {} from '@fastify/websocket'
import { Type } from 'typebox'
import { Errors } from '../errors.js'
import { registerTerminalPage } from './page.js'
import type { TerminalQuery, TerminalRequest } from './request.js'
import type { TerminalService } from './service.js'

export const TerminalQuerySchema = Type.Object({
  workdir: Type.Optional(Type.String({ maxLength: 4096 })),
  command: Type.Optional(Type.String({ maxLength: 16384 })),
  shell: Type.Optional(Type.String({ maxLength: 1024 })),
  cols: Type.Optional(Type.String({ maxLength: 16 })),
  rows: Type.Optional(Type.String({ maxLength: 16 })),
  session: Type.Optional(Type.String({ maxLength: 64 })),
  readonly: Type.Optional(Type.String({ maxLength: 8 })),
  ticket: Type.Optional(Type.String({ maxLength: 128 })),
})

const TerminalParams = Type.Object({ id: Type.String({ maxLength: 64 }) })

/** GET /terminal (WebSocket), GET /terminals, DELETE /terminals/:id, and the web terminal page. */
export function registerTerminalRoutes (fastify: FastifyInstance, service: TerminalService): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const prepared = new WeakMap<FastifyRequest, TerminalRequest>()

  app.get('/terminal', {
    websocket: true,
    config: { socket: true },
    schema: { querystring: TerminalQuerySchema },
    preValidation: async (request) => {
      prepared.set(request, service.prepare(request.query as TerminalQuery))
    },
  }, async (socket, request) => {
    const terminal = prepared.get(request)
    if (!terminal) return socket.close(1011, 'not prepared')
    await service.connect(socket, terminal, request.authenticated)
  })

  app.get('/terminals', async () => ({ terminals: service.registry.list() }))

  app.delete('/terminals/:id', { schema: { params: TerminalParams } }, async (request) => {
    if (!await service.registry.end(request.params.id, 'closed')) throw new Errors.TERMINAL_NOT_FOUND()
    return { id: request.params.id, status: 'ended' }
  })

  registerTerminalPage(fastify)
}
