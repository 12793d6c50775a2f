// The body of every error answer: `{error, code}` (docs/errors.md lists the codes).
import type { FromSchema } from 'json-schema-to-ts'

/** An error answer; `error` is devpilot's message, `code` the stable code to match on. */
export const ErrorSchema = {
  title: 'Error',
  type: 'object',
  properties: {
    error: { type: 'string' },
    code: { type: 'string' },
  },
  required: ['error', 'code'],
  additionalProperties: false,
} as const

/** An error answer of the server. */
export type ErrorBody = FromSchema<typeof ErrorSchema>
