// Request shapes of the /acp/sessions routes, as JSON Schema (bodies are checked by request.ts, with the ACP job parser).

export const AcpSessionParams = {
  type: 'object',
  properties: { id: { type: 'string', maxLength: 64 } },
  required: ['id'],
} as const
