import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type {} from '@fastify/websocket'
import type { WebSocket } from 'ws'
import type { SocketAuth } from '../auth/socket-auth.js'
import { Responses } from '../contract/responses.js'
import { Errors } from '../errors.js'
import type { JobManager } from './manager.js'
import type { JobEventSource } from './event-source.js'
import { parseCursor, START, type Cursor, type JobEvent, type OutputEncoding } from './streams.js'
import { eventJson, sendSse } from './sse.js'

const WS_HIGH_WATER_BYTES = 1024 * 1024

const StreamParams = {
  type: 'object',
  properties: { id: { type: 'string', maxLength: 64 } },
  required: ['id'],
} as const
const StreamQuery = {
  type: 'object',
  properties: {
    since: { type: 'string', maxLength: 64 },
    encoding: { enum: ['utf8', 'base64'] },
    ticket: { type: 'string', maxLength: 128 },
  },
} as const

/** Reads the resume point from Last-Event-ID or ?since=; a malformed one is a 400. */
export function cursorFrom (lastEventId: string | string[] | undefined, since: string | undefined): Cursor {
  const raw = typeof lastEventId === 'string' && lastEventId !== '' ? lastEventId : since
  if (raw === undefined || raw === '') return START
  const cursor = parseCursor(raw)
  if (!cursor) throw new Errors.INVALID_REQUEST(`not an event id of this server: ${raw}`)
  return cursor
}

/** Answers the request with the job's events as Server-Sent Events. */
export async function replyWithSse (source: JobEventSource, request: FastifyRequest, reply: FastifyReply, id: string, cursor: Cursor, encoding: OutputEncoding): Promise<void> {
  const aborted = new AbortController()
  reply.raw.once('close', () => aborted.abort())
  reply.hijack()
  const headers = { ...reply.getHeaders(), 'x-job-id': id } as Record<string, string>
  try {
    await sendSse(reply.raw, headers, source.events(id, cursor, encoding, aborted.signal), encoding, aborted.signal)
  } catch (err) {
    request.log.warn({ err, jobId: id }, 'event stream failed')
    reply.raw.destroy()
  }
}

async function sendWs (socket: WebSocket, event: JobEvent, encoding: OutputEncoding): Promise<void> {
  const frame = `{"id":"${event.id}","event":"${event.event}","data":${eventJson(event, encoding)}}`
  await new Promise<void>((resolve, reject) => socket.send(frame, (err) => err ? reject(err) : resolve()))
  // Why: the send callback fires once the frame is handed to the socket; bufferedAmount bounds what waits there.
  while (socket.bufferedAmount > WS_HIGH_WATER_BYTES && socket.readyState === socket.OPEN) {
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** GET /jobs/:id/events (SSE) and GET /jobs/:id/stream (WebSocket): live, resumable job events. */
export function registerStreamRoutes (fastify: FastifyInstance, source: JobEventSource, jobs: JobManager, auth: SocketAuth): void {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()

  app.get('/jobs/:id/events', { schema: { params: StreamParams, querystring: StreamQuery, response: Responses.events } }, async (request, reply) => {
    if (!jobs.get(request.params.id)) throw new Errors.JOB_NOT_FOUND()
    const cursor = cursorFrom(request.headers['last-event-id'], request.query.since)
    await replyWithSse(source, request, reply, request.params.id, cursor, request.query.encoding ?? 'utf8')
  })

  app.get('/jobs/:id/stream', {
    websocket: true,
    config: { socket: true },
    schema: { params: StreamParams, querystring: StreamQuery, response: Responses.webSocket },
    preValidation: async (request) => {
      const { id } = request.params as { id: string }
      if (!jobs.get(id)) throw new Errors.JOB_NOT_FOUND()
      cursorFrom(undefined, (request.query as { since?: string }).since)
    },
  }, async (socket, request) => {
    const { id } = request.params
    const aborted = new AbortController()
    socket.once('close', () => aborted.abort())
    if (!await auth.authenticate(socket, request.authenticated, request.ip)) return
    try {
      const cursor = cursorFrom(undefined, request.query.since)
      const encoding = request.query.encoding ?? 'utf8'
      let ended = false
      for await (const event of source.events(id, cursor, encoding, aborted.signal)) {
        if (socket.readyState !== socket.OPEN) break
        await sendWs(socket, event, encoding)
        ended = event.event === 'exit'
      }
      // 1001 "going away": the server stops before the job ended; resume with ?since= later.
      socket.close(ended ? 1000 : 1001, ended ? 'job ended' : 'server stopping')
    } catch (err) {
      request.log.warn({ err, jobId: id }, 'job socket failed')
      socket.terminate()
    }
  })
}
