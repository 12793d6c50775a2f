// A persistent shell session as GET /sessions shows it (docs/api.md, persistent sessions).
import type { FromSchema } from 'json-schema-to-ts'

/** One persistent shell session: devpilot's keys (§1.9) plus `cwd` and `jobId`; times are epoch seconds. */
export const SessionInfoSchema = {
  title: 'SessionInfo',
  type: 'object',
  properties: {
    sessionKey: { type: 'string' },
    shell: { type: 'string' },
    status: { enum: ['running', 'idle', 'stopped'] },
    createdAt: { type: 'number' },
    lastUsedAt: { type: 'number' },
    lastOutputAt: { type: ['number', 'null'] },
    processAlive: { type: 'boolean' },
    activeCommand: { type: 'boolean', description: 'a command is running in the session' },
    cwd: { type: ['string', 'null'], description: 'extension: the shell\'s working directory when known' },
    jobId: { type: ['string', 'null'], description: 'extension: the job running in the session now' },
    pid: { type: ['integer', 'null'], description: 'extension: the shell\'s pid (its process group and session id)' },
    queuedJobIds: { type: 'array', items: { type: 'string' }, description: 'extension: commands queued in the session itself, in order; [] for jobs, which wait as pending jobs (docs/api.md §25)' },
  },
  required: ['sessionKey', 'shell', 'status', 'createdAt', 'lastUsedAt', 'lastOutputAt', 'processAlive', 'activeCommand', 'cwd', 'jobId', 'pid', 'queuedJobIds'],
  additionalProperties: false,
} as const

/** One persistent shell session. */
export type SessionInfo = FromSchema<typeof SessionInfoSchema>

/** GET /sessions: every session, sorted by key. */
export const SessionListSchema = { title: 'SessionList', type: 'array', items: SessionInfoSchema } as const

/** DELETE /sessions/:key: the session was ended (its processes killed). */
export const SessionDeletedSchema = {
  title: 'SessionDeleted',
  type: 'object',
  properties: { deleted: { const: true }, sessionKey: { type: 'string' } },
  required: ['deleted', 'sessionKey'],
  additionalProperties: false,
} as const
