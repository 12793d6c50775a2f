import createError from '@fastify/error'

// The largest request body accepted (POST /exec with stdin, env and command included).
export const BODY_LIMIT_BYTES = 4 * 1024 * 1024
// The deepest nesting of arrays and objects accepted in a JSON body (ours need fewer than 10).
export const MAX_JSON_DEPTH = 64
// The largest request head (request line and headers) Node accepts: its --max-http-header-size default.
export const MAX_HEADER_BYTES = 16 * 1024

// The catalogue of every error the API answers with; docs/errors.md lists the same codes.
export const Errors = {
  UNAUTHORIZED: createError('UNAUTHORIZED', 'invalid or missing API key', 401),
  TOO_MANY_AUTH_FAILURES: createError('TOO_MANY_AUTH_FAILURES', 'too many failed authentication attempts; retry in %s seconds', 429),
  ORIGIN_NOT_ALLOWED: createError('ORIGIN_NOT_ALLOWED', 'origin not allowed: %s', 403),
  INVALID_JSON: createError('INVALID_JSON', 'malformed JSON body: %s', 400),
  BODY_TOO_LARGE: createError('BODY_TOO_LARGE', 'request body too large (limit %s bytes)', 413),
  INVALID_REQUEST: createError('INVALID_REQUEST', '%s', 400),
  UNSUPPORTED_MODE: createError('UNSUPPORTED_MODE', 'unsupported mode: %s', 400),
  WORKDIR_NOT_FOUND: createError('WORKDIR_NOT_FOUND', 'workdir does not exist or is not a directory: %s', 400),
  KEY_IN_URL: createError('KEY_IN_URL', 'the API key must not be sent in a URL; use the X-API-Key header, a ticket from POST /terminal/tickets, or a first message of type auth', 400),
  NOT_FOUND: createError('NOT_FOUND', 'not found', 404),
  SESSION_NOT_FOUND: createError('SESSION_NOT_FOUND', 'session not found', 404),
  MCP_SESSION_NOT_FOUND: createError('MCP_SESSION_NOT_FOUND', 'MCP session not found (it ended, or the server restarted); initialize a new one', 404),
  ACP_SESSION_LIMIT: createError('ACP_SESSION_LIMIT', 'too many open ACP sessions (limit %s); close one with DELETE /acp/sessions/:id', 429),
  MCP_TOO_MANY_SESSIONS: createError('MCP_TOO_MANY_SESSIONS', 'too many MCP sessions (limit %s), each with a request in progress; retry later', 429),
  TERMINAL_NOT_FOUND: createError('TERMINAL_NOT_FOUND', 'terminal session not found', 404),
  UPGRADE_REQUIRED: createError('UPGRADE_REQUIRED', 'this port serves only the terminal WebSocket', 426),
  JOB_NOT_FOUND: createError('JOB_NOT_FOUND', 'job not found', 404),
  ACP_SESSION_NOT_FOUND: createError('ACP_SESSION_NOT_FOUND', 'ACP session not found', 404),
  ACP_SESSION_BUSY: createError('ACP_SESSION_BUSY', 'ACP session %s is in use (%s); open the warm session when it is free, or send the prompt as a job with acp_session_id', 409),
  ACP_SESSION_CLOSED: createError('ACP_SESSION_CLOSED', 'this ACP session is closed; open a new one with POST /acp/sessions', 409),
  ACP_SESSION_START_FAILED: createError('ACP_SESSION_START_FAILED', 'the agent could not start the session: %s', 502),
  PERMISSION_REQUEST_NOT_FOUND: createError('PERMISSION_REQUEST_NOT_FOUND', 'no permission request %s is waiting for an answer', 404),
  UNKNOWN_PERMISSION_OPTION: createError('UNKNOWN_PERMISSION_OPTION', 'optionId %s is not one of the options of this request (%s)', 400),
  NOT_AN_ACP_JOB: createError('NOT_AN_ACP_JOB', 'this job is not an ACP job', 409),
  NOT_A_TTY_JOB: createError('NOT_A_TTY_JOB', 'this job has no terminal (submit it with tty: true)', 409),
  JOB_NOT_RUNNING: createError('JOB_NOT_RUNNING', 'job is not running (status: %s)', 409),
  STDIN_CLOSED: createError('STDIN_CLOSED', 'stdin of this job is closed', 409),
  STDIN_BUSY: createError('STDIN_BUSY', 'the job is not reading its stdin (%s bytes are waiting); retry later', 409),
  QUEUE_FULL: createError('QUEUE_FULL', 'too many pending jobs (limit %s); retry later', 429),
  SERVER_DRAINING: createError('SERVER_DRAINING', 'the server is restarting for an update; retry shortly', 503),
  UPDATE_BLOCKED: createError('UPDATE_BLOCKED', '%s', 409),
  RANGE_NOT_SATISFIABLE: createError('RANGE_NOT_SATISFIABLE', 'range not satisfiable (size %s bytes)', 416),
  DISK_FULL: createError('DISK_FULL', 'the disk of the state directory is full; free some space and retry', 507),
  STATE_READ_ONLY: createError('STATE_READ_ONLY', 'the state directory is read-only; the server cannot record jobs', 503),
  FILE_NOT_FOUND: createError('FILE_NOT_FOUND', 'no such file or directory: %s', 404),
  NOT_A_DIRECTORY: createError('NOT_A_DIRECTORY', 'not a directory: %s', 409),
  IS_A_DIRECTORY: createError('IS_A_DIRECTORY', '%s is a directory; list it with GET /files/list or download it with format=tar', 400),
  FILE_EXISTS: createError('FILE_EXISTS', 'already exists: %s', 409),
  DIRECTORY_NOT_EMPTY: createError('DIRECTORY_NOT_EMPTY', 'directory not empty: %s (pass recursive=1)', 409),
  FILE_PERMISSION_DENIED: createError('FILE_PERMISSION_DENIED', 'permission denied: %s', 403),
  PATH_OUTSIDE_ROOT: createError('PATH_OUTSIDE_ROOT', 'path is outside the files root: %s', 403),
  PRECONDITION_FAILED: createError('PRECONDITION_FAILED', 'If-Match does not match the current version of %s', 412),
  UPLOAD_TOO_LARGE: createError('UPLOAD_TOO_LARGE', 'upload too large (limit %s bytes)', 413),
  UNSAFE_ARCHIVE_ENTRY: createError('UNSAFE_ARCHIVE_ENTRY', 'archive entry refused: %s', 400),
  NO_SPACE: createError('NO_SPACE', 'no space left on device while writing %s', 507),
  INTERNAL: createError('INTERNAL', 'internal server error', 500),
  // Refusals of the HTTP layer, before or beside the routes (src/http/).
  JSON_TOO_DEEP: createError('JSON_TOO_DEEP', 'JSON body nested deeper than %s levels', 400),
  MALFORMED_REQUEST: createError('MALFORMED_REQUEST', 'malformed HTTP request: %s', 400),
  HEADERS_TOO_LARGE: createError('HEADERS_TOO_LARGE', 'request line and headers too large (limit %s bytes)', 431),
  REQUEST_TIMEOUT: createError('REQUEST_TIMEOUT', 'the request was not received in time', 408),
  EXPECTATION_FAILED: createError('EXPECTATION_FAILED', 'unsupported Expect header (only 100-continue is supported)', 417),
  WEBSOCKET_REQUIRED: createError('WEBSOCKET_REQUIRED', 'this route is a WebSocket: connect with Upgrade: websocket', 426),
  BAD_WEBSOCKET_HANDSHAKE: createError('BAD_WEBSOCKET_HANDSHAKE', 'invalid WebSocket handshake: %s', 400),
} as const

export type ErrorCode = keyof typeof Errors

/** 429 for an address that failed to authenticate too often, with the seconds until it may retry (Retry-After). */
export function tooManyAuthFailures (retryAfterSec: number): Error {
  return Object.assign(new Errors.TOO_MANY_AUTH_FAILURES(retryAfterSec), { retryAfterSec })
}

// Seconds a client should wait before retrying, sent as Retry-After with these errors.
const RETRY_AFTER_SEC: Partial<Record<string, number>> = { QUEUE_FULL: 1, SERVER_DRAINING: 5 }

/** The JSON body and status of an error response: `{ error, code }`; 5xx never carry internals. */
export function toErrorResponse (err: unknown): { status: number, body: { error: string, code: string }, retryAfterSec?: number } {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { code?: string, statusCode?: number, message?: string, validation?: unknown, retryAfterSec?: number }
  const known = e.code !== undefined && Object.hasOwn(Errors, e.code)
  if (known && e.statusCode !== undefined) {
    const retryAfterSec = e.retryAfterSec ?? RETRY_AFTER_SEC[e.code as string]
    return { status: e.statusCode, body: { error: e.message ?? '', code: e.code as string }, ...(retryAfterSec ? { retryAfterSec } : {}) }
  }
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return fromCatalogue(new Errors.BODY_TOO_LARGE(BODY_LIMIT_BYTES))
  if (e.code === 'FST_ERR_BAD_URL') return fromCatalogue(new Errors.MALFORMED_REQUEST('the path has an invalid %-escape'))
  if (e.code === 'FST_ERR_MAX_PARAM_LENGTH') return fromCatalogue(new Errors.INVALID_REQUEST('a path parameter is too long'))
  if (e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err instanceof SyntaxError) {
    return fromCatalogue(new Errors.INVALID_JSON('the body is not valid JSON'))
  }
  if (e.validation !== undefined) return fromCatalogue(new Errors.INVALID_REQUEST(e.message ?? 'invalid request'))
  if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, body: { error: e.message ?? 'bad request', code: 'INVALID_REQUEST' } }
  }
  return fromCatalogue(new Errors.INTERNAL())
}

function fromCatalogue (err: { code: string, statusCode?: number, message: string }): ReturnType<typeof toErrorResponse> {
  return { status: err.statusCode ?? 500, body: { error: err.message, code: err.code } }
}
