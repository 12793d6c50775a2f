// A warm ACP session as /acp/sessions shows it (docs/api.md §27).
import type { FromSchema } from 'json-schema-to-ts'
import { AcpEventSchema } from './job.js'

const ANY = { description: 'as the agent sent it; null when not known' } as const

/** One warm ACP session; times are epoch seconds. */
export const AcpSessionSchema = {
  title: 'AcpSession',
  type: 'object',
  properties: {
    id: { type: 'string', description: 'the session\'s id in this server (12 hex characters)' },
    acpSessionId: { type: ['string', 'null'], description: 'the agent\'s session id (it changes only when the agent could not resume and a new session began)' },
    agent: { type: 'string' },
    workdir: { type: 'string' },
    permissionPolicy: { type: 'string' },
    state: { enum: ['idle', 'busy', 'closed'] },
    warm: { type: 'boolean', description: 'the agent process runs now' },
    pid: { type: ['integer', 'null'], description: 'the agent\'s pid while it runs' },
    jobId: { type: ['string', 'null'], description: 'the prompt job running now' },
    queue: { type: 'array', items: { type: 'string' }, description: 'prompt jobs waiting, in order' },
    turns: { type: 'integer', description: 'prompt turns run so far' },
    createdAt: { type: 'number' },
    lastUsedAt: { type: 'number' },
    lastUsage: ANY,
    agentInfo: ANY,
    modes: ANY,
    models: ANY,
    configOptions: ANY,
    openingEvents: {
      type: 'array',
      items: AcpEventSchema,
      description: 'what happened while the session was opened, as ACP job events: initialize, session, permission_mode (the mode chosen and why), setting, warnings such as policy_not_enforceable; replayed history left out; at most 50',
    },
  },
  required: ['id', 'acpSessionId', 'agent', 'workdir', 'permissionPolicy', 'state', 'warm', 'pid', 'jobId', 'queue', 'turns', 'createdAt', 'lastUsedAt', 'lastUsage', 'agentInfo', 'modes', 'models', 'configOptions', 'openingEvents'],
  additionalProperties: false,
} as const

/** One warm ACP session. */
export type AcpSession = FromSchema<typeof AcpSessionSchema>

/** GET /acp/sessions: every session this server knows, oldest first. */
export const AcpSessionListSchema = { title: 'AcpSessionList', type: 'array', items: AcpSessionSchema } as const

/** GET /acp/sessions/:id/history: the session's prompt turns, oldest first. */
export const AcpSessionHistorySchema = {
  title: 'AcpSessionHistory',
  type: 'object',
  properties: {
    id: { type: 'string' },
    turns: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          jobId: { type: 'string' },
          prompt: { type: 'string' },
          stopReason: { type: ['string', 'null'], description: 'null while the turn runs' },
          error: { type: ['string', 'null'] },
          startedAt: { type: 'number' },
          finishedAt: { type: ['number', 'null'] },
        },
        required: ['jobId', 'prompt', 'stopReason', 'error', 'startedAt', 'finishedAt'],
        additionalProperties: false,
      },
    },
  },
  required: ['id', 'turns'],
  additionalProperties: false,
} as const

/** The turns of a warm ACP session. */
export type AcpSessionHistory = FromSchema<typeof AcpSessionHistorySchema>

/** POST /acp/sessions/:id/prompts: the body. */
export const AcpPromptRequestSchema = {
  title: 'AcpPromptRequest',
  type: 'object',
  properties: {
    prompt: { type: 'string', minLength: 1 },
    timeout: { type: ['number', 'null'], minimum: 0, description: 'seconds; default: the session\'s' },
    idleTimeout: { type: 'number', minimum: 0, description: 'seconds without a message from the agent; default: the session\'s' },
  },
  required: ['prompt'],
  additionalProperties: false,
} as const

/** A prompt for a warm ACP session. */
export type AcpPromptRequest = FromSchema<typeof AcpPromptRequestSchema>
