import { statSync } from 'node:fs'
import { resolve } from 'node:path'
import { Errors } from '../errors.js'
import { parseSessionRequest } from '../sessions/request.js'
import { machineShells, type ShellAvailability } from '../sessions/shells.js'
import { parseAcpSpec } from './acp-request.js'
import { isPlainObject, isPythonFalsy } from '../lib/json-values.js'
import { optionalString } from './request-fields.js'
import { COLS, ROWS } from '../terminal/protocol.js'
import type { JobSpec } from './types.js'

export const DEFAULT_TIMEOUT_SEC = 300
export const DEFAULT_SHELL = '/bin/sh'
const MODES = ['shell', 'acp', 'persistent_shell']
const MAX_TIMEOUT_SEC = 365 * 24 * 3600

// Why: devpilot printed the mode with Python str(); callers may match on these texts.
const pythonStr = (v: unknown): string =>
  v === null ? 'None' : v === true ? 'True' : v === false ? 'False' : typeof v === 'string' ? v : JSON.stringify(v)

/** A seconds field of a body (timeout, idleTimeout): absent → fallback, null → 0 (none), else 0…1 year. */
export function seconds (body: Record<string, unknown>, name: string, fallback: number): number {
  const value = body[name]
  if (value === undefined) return fallback
  // Why: devpilot waited forever on an explicit null.
  if (value === null) return 0
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_TIMEOUT_SEC) {
    throw new Errors.INVALID_REQUEST(`${name} must be a number of seconds between 0 and ${MAX_TIMEOUT_SEC}`)
  }
  return value
}

/**
 * Checks a POST /exec body in devpilot's order (mode, env, then the mode's fields) and returns the
 * job's spec; throws the API error for the first problem found.
 */
export function parseExecRequest (body: unknown, serverCwd: string, shells?: ShellAvailability): JobSpec {
  if (body === undefined || body === null) body = {}
  if (!isPlainObject(body)) throw new Errors.INVALID_REQUEST('request body must be a JSON object')

  const mode = 'mode' in body ? body.mode : 'shell'
  if (typeof mode !== 'string' || !MODES.includes(mode)) throw new Errors.UNSUPPORTED_MODE(pythonStr(mode))
  const env = body.env ?? {}
  if (!isPlainObject(env) || !Object.values(env).every((v) => typeof v === 'string')) {
    throw new Errors.INVALID_REQUEST('env must be an object of string key/value pairs')
  }
  const tty = ttySize(body, mode)
  if (mode === 'persistent_shell') return sessionSpec(body, serverCwd, shells ?? machineShells())
  const acp = mode === 'acp' ? parseAcpSpec(body, shells) : undefined

  // Why: devpilot showed an ACP job's command as "[acp] <agent>".
  const command = acp ? `[acp] ${acp.agent}` : body.command
  if (isPythonFalsy(command)) throw new Errors.INVALID_REQUEST('command is required')
  if (typeof command !== 'string') throw new Errors.INVALID_REQUEST('command must be a string')

  const shell = optionalString(body, 'shell') ?? DEFAULT_SHELL
  if (shell.trim() === '') throw new Errors.INVALID_REQUEST('shell must not be empty')
  const stdin = optionalString(body, 'stdin')
  const stdinEof = body.stdinEof ?? false
  if (typeof stdinEof !== 'boolean') throw new Errors.INVALID_REQUEST('stdinEof must be a boolean')

  const workdirText = optionalString(body, 'workdir') ?? ''
  const workdir = workdirText === '' ? serverCwd : resolve(serverCwd, workdirText)
  let isDir = false
  try { isDir = statSync(workdir).isDirectory() } catch { /* reported below */ }
  if (!isDir) throw new Errors.WORKDIR_NOT_FOUND(workdirText)

  return {
    command,
    shell,
    workdir,
    env: env as Record<string, string>,
    timeoutSec: seconds(body, 'timeout', DEFAULT_TIMEOUT_SEC),
    idleTimeoutSec: seconds(body, 'idleTimeout', 0),
    stdin: acp ? null : stdin,
    stdinEof: acp ? true : stdinEof,
    ...(acp ? { acp } : {}),
    ...(tty ? { tty } : {}),
  }
}

function windowSize (body: Record<string, unknown>, name: 'cols' | 'rows', range: { min: number, max: number, default: number }): number {
  const value = body[name]
  if (value === undefined || value === null) return range.default
  if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min || value > range.max) {
    throw new Errors.INVALID_REQUEST(`${name} must be an integer from ${range.min} to ${range.max}`)
  }
  return value
}

/** `tty`, `cols` and `rows` of a shell job: its terminal's first window size, or undefined without `tty: true`. */
function ttySize (body: Record<string, unknown>, mode: string): { cols: number, rows: number } | undefined {
  const tty = body.tty ?? false
  if (typeof tty !== 'boolean') throw new Errors.INVALID_REQUEST('tty must be a boolean')
  // Why cols and rows are not refused without tty: devpilot ignored unknown fields, and so do we.
  if (!tty) return undefined
  if (mode !== 'shell') throw new Errors.INVALID_REQUEST(`tty: true is only for shell jobs, not mode ${mode} (a persistent shell or an ACP agent has no terminal of its own)`)
  return { cols: windowSize(body, 'cols', COLS), rows: windowSize(body, 'rows', ROWS) }
}

// A persistent-shell command: devpilot's fields and messages (sessions/request.ts), plus our idleTimeout.
function sessionSpec (body: Record<string, unknown>, serverCwd: string, shells: ShellAvailability): JobSpec {
  const request = parseSessionRequest(body, serverCwd, shells)
  return {
    command: request.command,
    shell: request.shellPath,
    workdir: request.workdir,
    env: request.env,
    timeoutSec: request.timeoutSec,
    idleTimeoutSec: seconds(body, 'idleTimeout', 0),
    stdin: null,
    stdinEof: false,
    session: {
      sessionKey: request.sessionKey,
      shell: request.shell,
      shellPath: request.shellPath,
      bootstrapCommand: request.bootstrapCommand,
      bootstrapCurrentCommand: request.bootstrapCurrentCommand,
    },
  }
}
