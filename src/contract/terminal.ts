// The JSON answers of the terminal routes (docs/api.md §21) and of POST /terminal/tickets (§2).
import type { FromSchema } from 'json-schema-to-ts'

/** One live terminal, attached or not; times are ISO 8601. */
export const TerminalInfoSchema = {
  title: 'TerminalInfo',
  type: 'object',
  properties: {
    id: { type: 'string' },
    pid: { type: 'integer' },
    shell: { type: 'string' },
    workdir: { type: 'string' },
    createdAt: { type: 'string' },
    lastInputAt: { type: ['string', 'null'] },
    clients: { type: 'integer' },
    cols: { type: 'integer' },
    rows: { type: 'integer' },
  },
  required: ['id', 'pid', 'shell', 'workdir', 'createdAt', 'lastInputAt', 'clients', 'cols', 'rows'],
  additionalProperties: false,
} as const

/** GET /terminals. */
export const TerminalListSchema = {
  title: 'TerminalList',
  type: 'object',
  properties: { terminals: { type: 'array', items: TerminalInfoSchema } },
  required: ['terminals'],
  additionalProperties: false,
} as const

/** DELETE /terminals/:id, once the terminal's processes are gone. */
export const TerminalEndedSchema = {
  title: 'TerminalEnded',
  type: 'object',
  properties: { id: { type: 'string' }, status: { const: 'ended' } },
  required: ['id', 'status'],
  additionalProperties: false,
} as const

/** POST /terminal/tickets: a single-use ticket for a browser WebSocket. */
export const TicketSchema = {
  title: 'Ticket',
  type: 'object',
  properties: { ticket: { type: 'string' }, expiresInSeconds: { type: 'integer' } },
  required: ['ticket', 'expiresInSeconds'],
  additionalProperties: false,
} as const

/** One live terminal. */
export type TerminalInfo = FromSchema<typeof TerminalInfoSchema>
/** The answer of GET /terminals. */
export type TerminalList = FromSchema<typeof TerminalListSchema>
/** The answer of POST /terminal/tickets. */
export type Ticket = FromSchema<typeof TicketSchema>
