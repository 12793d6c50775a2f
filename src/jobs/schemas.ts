import { Type } from 'typebox'

// Request shapes of the job routes (POST /exec is checked by parseExecRequest for devpilot's messages).

export const ExecQuery = Type.Object({
  stream: Type.Optional(Type.Enum(['sse'])),
  encoding: Type.Optional(Type.Enum(['utf8', 'base64'])),
})

export const JobParams = Type.Object({ id: Type.String({ maxLength: 64 }) })

export const JobQuery = Type.Object({
  wait: Type.Optional(Type.Number({ minimum: 0 })),
  tailLines: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
  stdoutOffset: Type.Optional(Type.Integer({ minimum: 0 })),
  stderrOffset: Type.Optional(Type.Integer({ minimum: 0 })),
})

export const JobStatusName = Type.Enum(['pending', 'running', 'completed', 'failed', 'timeout', 'cancelled'])

export const ListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  status: Type.Optional(JobStatusName),
})

export const RawQuery = Type.Object({
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
})

export const KillBody = Type.Union([
  Type.Null(),
  Type.Object({ signal: Type.Optional(Type.String({ pattern: '^SIG[A-Z0-9]+$' })) }),
])

export const StdinBody = Type.Object({
  data: Type.String(),
  eof: Type.Optional(Type.Boolean()),
})

export const PermissionBody = Type.Object({
  requestId: Type.String({ minLength: 1, maxLength: 64 }),
  optionId: Type.String({ minLength: 1, maxLength: 256 }),
})
