// Request and response shapes of the HTTP API, as the client sees them (docs/api.md): derived from
// the wire contract's JSON Schemas (src/contract), the same schemas the server answers with.
import type { FromSchema } from 'json-schema-to-ts'
import type { NudgeResultSchema } from '../contract/job.js'

export type { JobStatus } from '../contract/job-status.js'
export type { AcpJobRequest, SessionJobRequest, ShellJobRequest } from '../contract/exec-request.js'

/** POST /acp/sessions: the fields of an ACP job without `prompt` (the prompts come one by one). */
export type AcpSessionRequest = Omit<import('../contract/exec-request.js').AcpJobRequest, 'prompt'>
export type { AcpEvent, Job, KillResult, PermissionAnswer, ResizeResult, StdinResult, SubmitResult } from '../contract/job.js'
export type { JobEvent } from '../contract/events.js'
export type { Health } from '../contract/health.js'
export type { TerminalInfo, TerminalList, Ticket } from '../contract/terminal.js'
export type { UpdateAccepted, UpdateRefused } from '../contract/update.js'
export type { SessionInfo } from '../contract/session.js'
export type { AcpPromptRequest, AcpSession, AcpSessionHistory } from '../contract/acp-session.js'
export type { ErrorBody } from '../contract/error.js'

/** Every key a job object can carry; a test checks it against what the server sends. */
export { JOB_KEYS } from '../contract/job.js'

/** Output selection of GET /jobs/:id. */
export interface JobQuery {
  tailLines?: number
  stdoutOffset?: number
  stderrOffset?: number
}

/** The answer of POST /jobs/:id/nudge (devpilot's shape: `reason` only when not nudged). */
export type NudgeResult = FromSchema<typeof NudgeResultSchema>
