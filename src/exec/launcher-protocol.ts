import { launchPaths } from './launch-file.js'
import type { SpawnOptions } from './job-process.js'
import { signalName } from './process-group.js'

// The wire format of native/launcher (its header comment is the reference). Requests: a 4-byte
// little-endian length, then NUL-terminated fields. Answers: one line each, fields split by spaces.

/** One answer line of the launcher. */
export type LauncherAnswer =
  /** `X pid code signal`: a job's recorder ended (sent by the recorder, and again after reaping). */
  | { kind: 'recorder-exit', pid: number, code: number | null, signal: NodeJS.Signals | null }
  /** `R`: the launcher is ready. */
  | { kind: 'ready' }
  /** `S req pid startTime`: the job of request `req` started. */
  | { kind: 'started', request: number, pid: number, startTime: string | null }
  /** `D req`: the launch file exists already: a launcher started this job before. */
  | { kind: 'started-before', request: number }
  /** `P req`: the folder of prepare request `req` is ready. */
  | { kind: 'prepared', request: number }
  /** `E req message` (or anything else): request `req` failed. */
  | { kind: 'failed', request: number, message: string }

// A message: its length, then each field followed by a NUL byte (`tail`: more such fields, encoded already).
function encodeMessage (fields: string[], tail: Buffer = Buffer.alloc(0)): Buffer {
  const body = Buffer.from(fields.join('\0') + '\0')
  const message = Buffer.allocUnsafe(4 + body.length + tail.length)
  message.writeUInt32LE(body.length + tail.length, 0)
  body.copy(message, 4)
  tail.copy(message, 4 + body.length)
  return message
}

// Each set variable as a `name=value` field, or null when one holds a NUL byte. Kept per env object:
// jobs without variables of their own share the server's (building it showed in profiles).
const encodedEnvs = new WeakMap<NodeJS.ProcessEnv, Buffer | null>()
function encodeEnv (env: NodeJS.ProcessEnv): Buffer | null {
  const known = encodedEnvs.get(env)
  if (known !== undefined) return known
  let text = ''
  let clean = true
  for (const name in env) {
    const value = env[name]
    if (value === undefined) continue
    if (name.includes('\0') || value.includes('\0')) clean = false
    text += `${name}=${value}\0`
  }
  const encoded = clean ? Buffer.from(text) : null
  encodedEnvs.set(env, encoded)
  return encoded
}

/**
 * The message asking the launcher to start the job of `options` as request number `request`; null
 * when its command, shell, workdir or environment holds a NUL byte (the field separator).
 */
export function encodeStartRequest (request: number, options: SpawnOptions): Buffer | null {
  const env = encodeEnv(options.env)
  if (env === null || [options.cwd, options.shell, options.command].some((f) => f.includes('\0'))) return null
  const { files } = options
  const paths = launchPaths(files)
  return encodeMessage(['S', String(request), paths.launch, options.cwd, options.shell, options.command,
    files.exit, files.stdout, files.stderr, options.stdin === 'pipe' ? paths.stdinFifo : ''], env)
}

/** The message telling the launcher that the server holds job `pid`'s stdin FIFO now (it drops its own writer). */
export function encodeStdinTaken (pid: number): Buffer {
  return encodeMessage(['A', String(pid)])
}

/** The message asking the launcher to make a job folder at `dir` ahead of time (when it has nothing else to do). */
export function encodePrepareRequest (request: number, dir: string): Buffer | null {
  return dir.includes('\0') ? null : encodeMessage(['P', String(request), dir])
}

/** Reads one answer line (without its newline). */
export function parseAnswer (line: string): LauncherAnswer {
  const parts = line.split(' ')
  const kind = parts[0]
  if (kind === 'X') {
    const [, pid, code, signal] = parts
    const signalText = signal === undefined || signal === '-' ? undefined : signalName(Number(signal))
    return {
      kind: 'recorder-exit',
      pid: Number(pid),
      code: code === undefined || code === '-' ? null : Number(code),
      signal: (signalText as NodeJS.Signals | undefined) ?? null,
    }
  }
  if (kind === 'R') return { kind: 'ready' }
  const request = Number(parts[1])
  if (kind === 'S') return { kind: 'started', request, pid: Number(parts[2]), startTime: parts[3] === '-' ? null : parts[3] ?? null }
  if (kind === 'D') return { kind: 'started-before', request }
  if (kind === 'P') return { kind: 'prepared', request }
  return { kind: 'failed', request, message: parts.slice(2).join(' ') }
}
