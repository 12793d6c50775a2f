// Request shapes of the session routes, as JSON Schema (`as const` types each handler's request).

/** The key is everything after `/sessions/`, URL-decoded (devpilot: it may hold `/` or `?`). */
export const SessionParams = {
  type: 'object',
  properties: { '*': { type: 'string', minLength: 1, maxLength: 4096 } },
  required: ['*'],
} as const
