// The answers of POST /update (docs/api.md §19).
import type { FromSchema } from 'json-schema-to-ts'

/** 200: the server restarts for the update once this is sent. */
export const UpdateAcceptedSchema = {
  title: 'UpdateAccepted',
  type: 'object',
  properties: {
    status: { const: 'updating' },
    version: { type: 'string' },
    message: { type: 'string' },
  },
  required: ['status', 'version', 'message'],
  additionalProperties: false,
} as const

/** 409 (devpilot's shape): what blocks the restart, with its count under the blocker's key. */
export const UpdateRefusedSchema = {
  title: 'UpdateRefused',
  type: 'object',
  properties: {
    error: { type: 'string' },
    acp_jobs: { type: 'integer', description: 'ACP jobs running (when they block)' },
    running_jobs: { type: 'integer', description: "devpilot's key for the jobs that block (with acp_jobs)" },
    terminal_sessions: { type: 'integer', description: 'terminals alive (when they block)' },
    code: { const: 'UPDATE_BLOCKED' },
  },
  required: ['error', 'code'],
  additionalProperties: false,
} as const

/** The 200 answer of POST /update. */
export type UpdateAccepted = FromSchema<typeof UpdateAcceptedSchema>
/** The 409 answer of POST /update. */
export type UpdateRefused = FromSchema<typeof UpdateRefusedSchema>
