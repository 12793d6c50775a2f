// Request shapes of the job routes, as JSON Schema (POST /exec is checked by parseExecRequest for devpilot's messages).
// `as const` lets the json-schema-to-ts type provider type each handler's request from its schema.

import { JOB_STATUSES } from '../contract/job-status.js'
import { COLS, ROWS } from '../terminal/protocol.js'

// `wait=S` of GET /jobs/:id and POST /exec: seconds to wait for the job's end (at most 60 are used).
const WaitSeconds = { type: 'number', minimum: 0 } as const

export const ExecQuery = {
  type: 'object',
  properties: {
    stream: { enum: ['sse'] },
    encoding: { enum: ['utf8', 'base64'] },
    wait: WaitSeconds,
  },
} as const

export const JobParams = {
  type: 'object',
  properties: { id: { type: 'string', maxLength: 64 } },
  required: ['id'],
} as const

export const JobQuery = {
  type: 'object',
  properties: {
    wait: WaitSeconds,
    tailLines: { type: 'integer', minimum: 0, maximum: 1_000_000 },
    stdoutOffset: { type: 'integer', minimum: 0 },
    stderrOffset: { type: 'integer', minimum: 0 },
  },
} as const

export const ListQuery = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 1000 },
    status: { enum: JOB_STATUSES },
  },
} as const

export const RawQuery = {
  type: 'object',
  properties: { offset: { type: 'integer', minimum: 0 } },
} as const

export const KillBody = {
  anyOf: [
    { type: 'null' },
    { type: 'object', properties: { signal: { type: 'string', pattern: '^SIG[A-Z0-9]+$' } } },
  ],
} as const

// `data` (text, sent as UTF-8) or `dataBase64` (any bytes): exactly one; checked by the route.
export const StdinBody = {
  type: 'object',
  properties: {
    data: { type: 'string' },
    dataBase64: { type: 'string' },
    eof: { type: 'boolean' },
  },
} as const

export const ResizeBody = {
  type: 'object',
  properties: {
    cols: { type: 'integer', minimum: COLS.min, maximum: COLS.max },
    rows: { type: 'integer', minimum: ROWS.min, maximum: ROWS.max },
  },
  required: ['cols', 'rows'],
} as const

export const PermissionBody = {
  type: 'object',
  properties: {
    requestId: { type: 'string', minLength: 1, maxLength: 64 },
    optionId: { type: 'string', minLength: 1, maxLength: 256 },
  },
  required: ['requestId', 'optionId'],
} as const
