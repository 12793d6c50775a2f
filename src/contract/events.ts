// The events of GET /jobs/:id/events (SSE) and GET /jobs/:id/stream (WebSocket), docs/api.md §17.
import type { FromSchema } from 'json-schema-to-ts'
import { AcpEventSchema } from './job.js'
import { JobStatusSchema } from './job-status.js'

const NULLABLE_STRING = { type: ['string', 'null'] } as const
const ID = { type: 'string', description: 'the resume point: send it back as Last-Event-ID or ?since=' } as const

/** One event of a job stream: `id`, `event` (its kind) and `data`. */
export const JobEventSchema = {
  title: 'JobEvent',
  oneOf: [
    {
      type: 'object',
      properties: {
        id: ID,
        event: { const: 'status' },
        data: {
          type: 'object',
          properties: { status: JobStatusSchema, at: { type: 'number' } },
          required: ['status', 'at'],
          additionalProperties: false,
        },
      },
      required: ['id', 'event', 'data'],
      additionalProperties: false,
    },
    {
      type: 'object',
      properties: {
        id: ID,
        event: { const: 'output' },
        data: {
          type: 'object',
          properties: {
            stream: { enum: ['stdout', 'stderr'] },
            offset: { type: 'integer' },
            data: { type: 'string', description: 'UTF-8 text, or base64 with ?encoding=base64' },
          },
          required: ['stream', 'offset', 'data'],
          additionalProperties: false,
        },
      },
      required: ['id', 'event', 'data'],
      additionalProperties: false,
    },
    {
      type: 'object',
      properties: { id: ID, event: { const: 'acp' }, data: AcpEventSchema },
      required: ['id', 'event', 'data'],
      additionalProperties: false,
    },
    {
      type: 'object',
      properties: {
        id: ID,
        event: { const: 'exit' },
        data: {
          type: 'object',
          properties: {
            status: JobStatusSchema,
            exitCode: { type: ['integer', 'null'] },
            signal: NULLABLE_STRING,
            error: NULLABLE_STRING,
          },
          required: ['status', 'exitCode', 'signal', 'error'],
          additionalProperties: false,
        },
      },
      required: ['id', 'event', 'data'],
      additionalProperties: false,
    },
  ],
} as const

/** One event of a job stream. */
export type JobEvent = FromSchema<typeof JobEventSchema>
