// The job object of GET /jobs/:id and GET /jobs, and the small answers of the job routes.
import type { FromSchema } from 'json-schema-to-ts'
import { JobStatusSchema } from './job-status.js'

const NULLABLE_NUMBER = { type: ['number', 'null'] } as const
const NULLABLE_INTEGER = { type: ['integer', 'null'] } as const
const NULLABLE_STRING = { type: ['string', 'null'] } as const

/** One event of an ACP job (in `events` of the job, and as `acp` events of the stream); `data` depends on `type`. */
export const AcpEventSchema = {
  title: 'AcpEvent',
  type: 'object',
  properties: {
    type: { type: 'string' },
    timestamp: { type: 'number' },
    data: { type: 'object', additionalProperties: true },
  },
  required: ['type', 'timestamp', 'data'],
  additionalProperties: false,
} as const

/** A job as GET /jobs/:id returns it (docs/api.md §5); keys in the order the server sends them. */
export const JobSchema = {
  title: 'Job',
  type: 'object',
  properties: {
    jobId: { type: 'string' },
    status: JobStatusSchema,
    mode: { type: 'string' },
    command: { type: 'string' },
    workdir: { type: 'string' },
    submittedAt: { type: 'number' },
    startedAt: NULLABLE_NUMBER,
    finishedAt: NULLABLE_NUMBER,
    lastOutputAt: NULLABLE_NUMBER,
    processAlive: { type: 'boolean' },
    pid: NULLABLE_INTEGER,
    exitCode: NULLABLE_INTEGER,
    signal: NULLABLE_STRING,
    durationMs: NULLABLE_INTEGER,
    timedOut: { type: 'boolean' },
    error: { type: 'string', description: 'only when set: why the job ended the way it did' },
    queuePosition: { type: 'integer', description: 'only while waiting in the queue; 1 starts next' },
    stdout: { type: 'string' },
    stdoutBytes: { type: 'integer' },
    stdoutTruncated: { type: 'boolean' },
    stdoutOffset: { type: 'integer', description: 'only when the request gave an offset: the offset to ask for next' },
    stderr: { type: 'string' },
    stderrBytes: { type: 'integer' },
    stderrTruncated: { type: 'boolean' },
    stderrOffset: { type: 'integer', description: 'only when the request gave an offset: the offset to ask for next' },
    acpSessionId: { ...NULLABLE_STRING, description: 'ACP jobs only' },
    stopReason: { ...NULLABLE_STRING, description: 'ACP jobs only' },
    events: { type: 'array', items: AcpEventSchema, description: 'ACP jobs only: the last 500 events' },
    toolCalls: { type: 'array', items: { type: 'object', additionalProperties: true }, description: 'ACP jobs only' },
    acpError: { type: 'string', description: 'ACP jobs only, only when set' },
    usage: { type: 'object', additionalProperties: true, description: 'ACP jobs only, only when the agent sent one: the prompt response\'s token usage' },
    sessionKey: { type: 'string', description: 'persistent-shell jobs only: the session' },
    shell: { type: 'string', description: 'persistent-shell jobs only: the session\'s shell' },
    tty: { const: true, description: 'tty jobs only: the job runs on a terminal (stdout holds its merged output)' },
    persistentShell: { type: 'string', description: 'ACP jobs whose terminals run in a persistent session: the shell (devpilot\'s field)' },
  },
  required: [
    'jobId', 'status', 'mode', 'command', 'workdir', 'submittedAt', 'startedAt', 'finishedAt', 'lastOutputAt',
    'processAlive', 'pid', 'exitCode', 'signal', 'durationMs', 'timedOut',
    'stdout', 'stdoutBytes', 'stdoutTruncated', 'stderr', 'stderrBytes', 'stderrTruncated',
  ],
  additionalProperties: false,
} as const

/** GET /jobs: the newest jobs first. */
export const JobListSchema = { title: 'JobList', type: 'array', items: JobSchema } as const

/** POST /exec: 202 for a new job, 200 for a repeated Idempotency-Key. */
export const SubmitResultSchema = {
  title: 'SubmitResult',
  type: 'object',
  properties: { jobId: { type: 'string' }, status: JobStatusSchema },
  required: ['jobId', 'status'],
  additionalProperties: false,
} as const

/** POST /jobs/:id/kill and DELETE /jobs/:id: the signal sent, or null when the job had ended. */
export const KillResultSchema = {
  title: 'KillResult',
  type: 'object',
  properties: { jobId: { type: 'string' }, status: JobStatusSchema, signal: NULLABLE_STRING },
  required: ['jobId', 'status', 'signal'],
  additionalProperties: false,
} as const

/** POST /jobs/:id/stdin: bytes written and whether stdin is now closed. */
export const StdinResultSchema = {
  title: 'StdinResult',
  type: 'object',
  properties: { jobId: { type: 'string' }, written: { type: 'integer' }, eof: { type: 'boolean' } },
  required: ['jobId', 'written', 'eof'],
  additionalProperties: false,
} as const

/** POST /jobs/:id/resize: the window size the job's terminal has now. */
export const ResizeResultSchema = {
  title: 'ResizeResult',
  type: 'object',
  properties: { jobId: { type: 'string' }, cols: { type: 'integer' }, rows: { type: 'integer' } },
  required: ['jobId', 'cols', 'rows'],
  additionalProperties: false,
} as const

/** POST /jobs/:id/nudge, in devpilot's shape: `reason` only when not nudged. */
export const NudgeResultSchema = {
  title: 'NudgeResult',
  type: 'object',
  properties: { nudged: { type: 'boolean' }, reason: { type: 'string' }, processAlive: { type: 'boolean' } },
  required: ['nudged', 'processAlive'],
  additionalProperties: false,
} as const

/** POST /jobs/:id/permission: the answer given to the agent, in ACP's shape. */
export const PermissionAnswerSchema = {
  title: 'PermissionAnswer',
  type: 'object',
  properties: {
    jobId: { type: 'string' },
    requestId: { type: 'string' },
    outcome: {
      type: 'object',
      properties: { outcome: { const: 'selected' }, optionId: { type: 'string' } },
      required: ['outcome', 'optionId'],
      additionalProperties: false,
    },
  },
  required: ['jobId', 'requestId', 'outcome'],
  additionalProperties: false,
} as const

/**
 * POST /exec: without `wait`, a SubmitResult (202 for a new job, 200 for a repeated
 * Idempotency-Key); with `wait`, the job as GET /jobs/:id answers it (200 once it has finished,
 * 202 while it is pending or running).
 */
export const SubmitAnswerSchema = {
  title: 'SubmitAnswer',
  anyOf: [SubmitResultSchema, JobSchema],
} as const

/** A job as the server sends it. */
export type Job = FromSchema<typeof JobSchema>
/** One event of an ACP job. */
export type AcpEvent = FromSchema<typeof AcpEventSchema>
/** The answer of POST /exec. */
export type SubmitResult = FromSchema<typeof SubmitResultSchema>
/** The answer of POST /jobs/:id/kill and DELETE /jobs/:id. */
export type KillResult = FromSchema<typeof KillResultSchema>
/** The answer of POST /jobs/:id/stdin. */
export type StdinResult = FromSchema<typeof StdinResultSchema>
/** The answer of POST /jobs/:id/resize. */
export type ResizeResult = FromSchema<typeof ResizeResultSchema>
/** The answer of POST /jobs/:id/permission. */
export type PermissionAnswer = FromSchema<typeof PermissionAnswerSchema>

/** Every key a job object can carry, in the order the server sends them. */
export const JOB_KEYS = Object.keys(JobSchema.properties) as ReadonlyArray<keyof Job>
