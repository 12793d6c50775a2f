import { Errors } from '../errors.js'
import { parseExecRequest, seconds } from '../jobs/exec-request.js'
import type { JobSpec } from '../jobs/types.js'
import { isPlainObject } from '../lib/json-values.js'

/**
 * The spec of a new warm session from a POST /acp/sessions body: the fields of an ACP job
 * (POST /exec with mode "acp", checked by the same parser) without `prompt`.
 */
export function parseAcpSessionRequest (body: unknown, serverCwd: string): JobSpec {
  if (body === undefined || body === null) body = {}
  if (!isPlainObject(body)) throw new Errors.INVALID_REQUEST('request body must be a JSON object')
  if (body.mode !== undefined && body.mode !== 'acp') throw new Errors.INVALID_REQUEST('mode must be "acp" (or left out)')
  if (body.prompt !== undefined && body.prompt !== null && body.prompt !== '') {
    throw new Errors.INVALID_REQUEST('prompt does not belong here: send it with POST /acp/sessions/:id/prompts')
  }
  return parseExecRequest({ ...body, mode: 'acp' }, serverCwd)
}

/** The spec of a prompt job of a warm session: the session's spec with the prompt and its limits (POST /acp/sessions/:id/prompts). */
export function parsePromptRequest (body: unknown, session: { id: string, spec: JobSpec, acpSessionId: string | null }): JobSpec {
  if (!isPlainObject(body)) throw new Errors.INVALID_REQUEST('request body must be a JSON object')
  const prompt = body.prompt
  if (typeof prompt !== 'string' || prompt === '') throw new Errors.INVALID_REQUEST('prompt is required (a non-empty string)')
  const unknown = Object.keys(body).filter((k) => !['prompt', 'timeout', 'idleTimeout'].includes(k))
  if (unknown.length > 0) throw new Errors.INVALID_REQUEST(`unknown field ${unknown[0]}: a prompt takes prompt, timeout and idleTimeout (the rest is the session's)`)
  const { spec } = session
  const acp = spec.acp as NonNullable<JobSpec['acp']>
  return {
    ...spec,
    timeoutSec: seconds(body, 'timeout', spec.timeoutSec),
    idleTimeoutSec: seconds(body, 'idleTimeout', spec.idleTimeoutSec),
    // Why no model/effort/mode: the session applied them when it opened (and again when its agent restarts).
    acp: { ...acp, prompt, sessionId: session.acpSessionId, model: null, effort: null, mode: null, warmSessionId: session.id },
  }
}
