// GET /health: `{status, authenticated}` without a key, the full status with one (docs/api.md §3).
import type { FromSchema } from 'json-schema-to-ts'

/** The health answer; every field but `status` and `authenticated` only with the key, in this order. */
export const HealthSchema = {
  title: 'Health',
  type: 'object',
  properties: {
    status: { const: 'ok' },
    version: { type: 'string' },
    hostname: { type: 'string' },
    jobs: { type: 'integer', description: 'job records held, any status' },
    cwd: { type: 'string' },
    authenticated: { type: 'boolean' },
    terminal_supported: { type: 'boolean' },
    terminal_sessions: { type: 'integer' },
    acp_supported: { type: 'boolean' },
    execution_modes: { type: 'array', items: { type: 'string' } },
    persistent_shell_supported: { type: 'boolean' },
    persistent_shell_shells: { type: 'object', additionalProperties: { type: 'boolean' } },
    persistent_shell_default_shell: { type: ['string', 'null'] },
    persistent_shell_sessions: { type: 'integer' },
    persistent_shell_max_sessions: { type: 'integer' },
    persistent_shell_idle_timeout_seconds: { type: 'number' },
    uptimeSeconds: { type: 'integer' },
    pid: { type: 'integer' },
    queue: {
      type: 'object',
      properties: {
        running: { type: 'integer' },
        pending: { type: 'integer' },
        maxConcurrent: { type: 'integer' },
        maxPending: { type: 'integer' },
      },
      required: ['running', 'pending', 'maxConcurrent', 'maxPending'],
      additionalProperties: false,
    },
    draining: { type: 'boolean' },
    storage: {
      type: 'object',
      description: "the state directory's storage now: `full` (under 1 MiB or no inode free) or `read-only` refuse new jobs (507/503) or soon will",
      properties: {
        state: { enum: ['ok', 'full', 'read-only'] },
        freeBytes: { type: ['integer', 'null'] },
        unsavedJobs: { type: 'integer', description: 'jobs whose last change waits in memory for the disk' },
      },
      required: ['state', 'freeBytes', 'unsavedJobs'],
      additionalProperties: false,
    },
  },
  required: ['status', 'authenticated'],
  additionalProperties: false,
} as const

/** The answer of GET /health. */
export type Health = FromSchema<typeof HealthSchema>
