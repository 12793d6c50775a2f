import type { IncomingMessage } from 'node:http'
import type { FastifyInstance } from 'fastify'
import { Errors } from '../errors.js'
import { BODY_DEADLINE_MS } from './limits.js'
import { rawErrorResponse } from './refusals.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route reads its body as a stream for as long as it takes (PUT /files): no body deadline. */
    streamsBody?: boolean
  }
}

const hasBody = (raw: IncomingMessage): boolean =>
  raw.headers['transfer-encoding'] !== undefined || Number(raw.headers['content-length'] ?? 0) > 0

/**
 * Answers 408 and closes the connection when a request's body has not fully arrived `deadlineMs`
 * after its head. Why not Node's `requestTimeout`: it is server-wide, and would cut every upload
 * to PUT /files that takes longer; routes with `config.streamsBody` are exempt here instead.
 */
export function registerBodyDeadline (app: FastifyInstance, deadlineMs = BODY_DEADLINE_MS): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const raw = request.raw
    if (raw.complete || !hasBody(raw) || request.routeOptions.config.streamsBody === true) {
      done()
      return
    }
    const timer = setTimeout(() => {
      if (raw.complete || raw.socket.destroyed) return
      request.log.info({ address: request.ip }, 'request body not received in time; connection closed')
      raw.socket.end(rawErrorResponse(new Errors.REQUEST_TIMEOUT()))
      raw.socket.destroySoon()
    }, deadlineMs).unref()
    const clear = (): void => clearTimeout(timer)
    raw.once('end', clear)
    raw.once('close', clear)
    done()
  })
}
