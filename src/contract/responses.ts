// The `response` schemas of the routes. The serializer gets a lenient copy of each contract schema
// (keys the contract does not list are passed through, missing ones left out, values written as
// they are, never coerced) so that a contract that lags behind the code never drops or changes a
// key a devpilot caller reads; the OpenAPI document and the contract test use the strict schema
// the copy was made from.
import { ErrorSchema } from './error.js'
import { DirectoryMadeSchema, ExtractedSchema, FileListingSchema, FileMovedSchema, FileStatSchema } from './files.js'
import { HealthSchema } from './health.js'
import { JobListSchema, JobSchema, KillResultSchema, NudgeResultSchema, PermissionAnswerSchema, ResizeResultSchema, StdinResultSchema, SubmitAnswerSchema, SubmitResultSchema } from './job.js'
import { SessionDeletedSchema, SessionInfoSchema, SessionListSchema } from './session.js'
import { AcpSessionHistorySchema, AcpSessionListSchema, AcpSessionSchema } from './acp-session.js'
import { TerminalEndedSchema, TerminalListSchema, TicketSchema } from './terminal.js'
import { UpdateAcceptedSchema, UpdateRefusedSchema } from './update.js'

type Schema = Record<string, unknown>

const STRICT = new WeakMap<object, Schema>()

// Keywords of a value the serializer must not act on: it would coerce a value of another type
// (false → "false", 1.5 → 1) instead of failing, and the contract test could not see it.
const VALUE_KEYWORDS = new Set(['type', 'const', 'enum', 'format'])

function lenient (schema: Schema): Schema {
  const copy: Schema = {}
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'required') continue
    if (key === 'properties') copy[key] = Object.fromEntries(Object.entries(value as Record<string, Schema>).map(([name, sub]) => [name, lenient(sub)]))
    else if (key === 'items' || (key === 'additionalProperties' && typeof value === 'object')) copy[key] = lenient(value as Schema)
    else if (key === 'oneOf' || key === 'anyOf') copy[key] = (value as Schema[]).map(lenient)
    else copy[key] = key === 'additionalProperties' ? true : value
  }
  // A leaf (anything but an object with listed properties or an array) is written as JSON.stringify writes it.
  if (copy.properties === undefined && copy.items === undefined) {
    for (const key of VALUE_KEYWORDS) delete copy[key]
  }
  return copy
}

/** The lenient copy of `schema` that a route serializes with. */
function serializeWith (schema: Schema): Schema {
  const copy = lenient(schema)
  STRICT.set(copy, schema)
  return copy
}

/** The contract schema a route's response schema was made from (itself when it was not). */
export function strictSchema (schema: unknown): unknown {
  return typeof schema === 'object' && schema !== null ? STRICT.get(schema) ?? schema : schema
}

const ERRORS = { '4xx': serializeWith(ErrorSchema), '5xx': serializeWith(ErrorSchema) }
const SSE = { schema: { type: 'string', description: 'Server-Sent Events: `id`, `event` and `data` (the JSON `data` of a JobEvent) per event' } }
const BYTES = { schema: { type: 'string', format: 'binary' } }
const WEBSOCKET = { description: 'Switching Protocols: a WebSocket', type: 'null' }
const noBody = (description: string): Schema => ({ description, type: 'null' })

/** `response` of every route with a JSON answer or a documented error, by route. */
export const Responses = {
  exec: {
    200: { content: { 'application/json': { schema: serializeWith(SubmitAnswerSchema) }, 'text/event-stream': SSE } },
    202: serializeWith(SubmitAnswerSchema),
    ...ERRORS,
  },
  jobList: { 200: serializeWith(JobListSchema), ...ERRORS },
  job: { 200: serializeWith(JobSchema), ...ERRORS },
  rawOutput: { 200: { content: { 'application/octet-stream': BYTES } }, 206: { content: { 'application/octet-stream': BYTES } }, ...ERRORS },
  nudge: { 200: serializeWith(NudgeResultSchema), ...ERRORS },
  stdin: { 200: serializeWith(StdinResultSchema), ...ERRORS },
  resize: { 200: serializeWith(ResizeResultSchema), ...ERRORS },
  kill: { 200: serializeWith(KillResultSchema), ...ERRORS },
  permission: { 200: serializeWith(PermissionAnswerSchema), ...ERRORS },
  events: { 200: { content: { 'text/event-stream': SSE } }, ...ERRORS },
  webSocket: { 101: WEBSOCKET, ...ERRORS },
  ticket: { 200: serializeWith(TicketSchema), ...ERRORS },
  terminalList: { 200: serializeWith(TerminalListSchema), ...ERRORS },
  terminalEnded: { 200: serializeWith(TerminalEndedSchema), ...ERRORS },
  health: { 200: serializeWith(HealthSchema), ...ERRORS },
  sessionList: { 200: serializeWith(SessionListSchema), ...ERRORS },
  session: { 200: serializeWith(SessionInfoSchema), ...ERRORS },
  sessionDeleted: { 200: serializeWith(SessionDeletedSchema), ...ERRORS },
  update: { 200: serializeWith(UpdateAcceptedSchema), 409: serializeWith(UpdateRefusedSchema), ...ERRORS },
  acpSessionCreated: { 201: serializeWith(AcpSessionSchema), ...ERRORS },
  acpSessionList: { 200: serializeWith(AcpSessionListSchema), ...ERRORS },
  acpSession: { 200: serializeWith(AcpSessionSchema), ...ERRORS },
  acpSessionHistory: { 200: serializeWith(AcpSessionHistorySchema), ...ERRORS },
  acpPrompt: { 202: serializeWith(SubmitResultSchema), ...ERRORS },
  fileDownload: {
    200: { content: { 'application/octet-stream': BYTES, 'application/x-tar': BYTES } },
    206: { content: { 'application/octet-stream': BYTES } },
    304: noBody('Not Modified: If-None-Match names the current ETag'),
    ...ERRORS,
  },
  fileUpload: { 200: serializeWith(ExtractedSchema), 201: noBody('created (ETag header)'), 204: noBody('replaced (ETag header)'), ...ERRORS },
  fileDeleted: { 204: noBody('deleted'), ...ERRORS },
  fileStat: { 200: serializeWith(FileStatSchema), ...ERRORS },
  fileListing: { 200: serializeWith(FileListingSchema), ...ERRORS },
  fileMoved: { 200: serializeWith(FileMovedSchema), ...ERRORS },
  directoryMade: { 200: serializeWith(DirectoryMadeSchema), 201: serializeWith(DirectoryMadeSchema), ...ERRORS },
} as const
