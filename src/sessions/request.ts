import { statSync } from 'node:fs'
import { resolve } from 'node:path'
import { Errors } from '../errors.js'
import { isPlainObject, isPythonFalsy } from '../lib/json-values.js'
import { isRunnableKind, shellKindOf, type ShellAvailability, type ShellKind } from './shells.js'

const DEFAULT_TIMEOUT_SEC = 300
const MAX_TIMEOUT_SEC = 365 * 24 * 3600

/** What a `mode: "persistent_shell"` request asks for, checked. */
export interface SessionRequest {
  sessionKey: string
  shell: ShellKind
  /** Absolute path of the shell's executable on this machine. */
  shellPath: string
  command: string
  /** Empty when the request did not carry one. */
  bootstrapCommand: string
  bootstrapCurrentCommand: boolean
  /** Seeds a new session only; ignored by an existing one (devpilot §5.2). */
  workdir: string
  env: Record<string, string>
  timeoutSec: number
}

const invalid = (message: string): Error => new Errors.INVALID_REQUEST(message)

/**
 * Checks a persistent-shell POST /exec body in devpilot's order and with its messages (§1.5):
 * env, availability, command, sessionKey, shell, bootstrapCommand, bootstrapCurrentCommand, the
 * shell alias; then ours: the shell is installed, workdir exists, timeout is a number. Throws the
 * API error (INVALID_REQUEST, or WORKDIR_NOT_FOUND) for the first problem.
 */
export function parseSessionRequest (body: Record<string, unknown>, serverCwd: string, shells: ShellAvailability): SessionRequest {
  const env = body.env ?? {}
  if (!isPlainObject(env) || !Object.values(env).every((v) => typeof v === 'string')) {
    throw invalid('env must be an object of string key/value pairs')
  }
  if (!shells.supported) throw invalid('persistent shell is not available')
  const command = body.command
  if (isPythonFalsy(command)) throw invalid('command is required')
  const sessionKey = body.sessionKey
  if (typeof sessionKey !== 'string' || sessionKey === '') throw invalid('sessionKey is required')
  const shell = body.shell
  if (typeof shell !== 'string' || shell === '') throw invalid('shell is required')
  const bootstrapCommand = body.bootstrapCommand ?? ''
  if (!isPythonFalsy(bootstrapCommand) && typeof bootstrapCommand !== 'string') throw invalid('bootstrapCommand must be a string')
  const bootstrapCurrentCommand = body.bootstrapCurrentCommand ?? false
  if (typeof bootstrapCurrentCommand !== 'boolean') throw invalid('bootstrapCurrentCommand must be a boolean')
  const kind = shellKindOf(shell)
  if (kind === undefined) throw invalid(`unsupported shell: ${shell}`)

  // Ours from here: devpilot accepted these and failed the job later, or not at all.
  if (typeof command !== 'string') throw invalid('command must be a string')
  const shellPath = shells.installed[kind]
  if (shellPath === undefined) {
    throw invalid(shells.present[kind] && !isRunnableKind(kind)
      ? `shell ${kind} is installed but persistent ${kind} sessions are not supported by this version`
      : `shell ${kind} is not installed on this machine`)
  }
  const workdirValue = body.workdir ?? ''
  if (typeof workdirValue !== 'string') throw invalid('workdir must be a string')
  const workdir = workdirValue === '' ? serverCwd : resolve(serverCwd, workdirValue)
  let isDir = false
  try { isDir = statSync(workdir).isDirectory() } catch { /* reported below */ }
  if (!isDir) throw new Errors.WORKDIR_NOT_FOUND(workdirValue)

  return {
    sessionKey,
    shell: kind,
    shellPath,
    command,
    bootstrapCommand: typeof bootstrapCommand === 'string' ? bootstrapCommand : '',
    bootstrapCurrentCommand,
    workdir,
    env: env as Record<string, string>,
    timeoutSec: timeoutSeconds(body.timeout),
  }
}

function timeoutSeconds (value: unknown): number {
  if (value === undefined) return DEFAULT_TIMEOUT_SEC
  // Why: devpilot waited forever on an explicit null; 0 means no limit here, as for shell jobs.
  if (value === null) return 0
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_TIMEOUT_SEC) {
    throw invalid(`timeout must be a number of seconds between 0 and ${MAX_TIMEOUT_SEC}`)
  }
  return value
}
