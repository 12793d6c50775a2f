import { execFile, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import type { Logger } from '../logger.js'
import type { ChildExit } from './child-exit.js'
import type { CommandSpec } from './child.js'
import { signalGroup } from '../exec/process-group.js'

const execFileAsync = promisify(execFile)

// The version command is a quick `--version`; anything slower is stuck.
const VERSION_TIMEOUT_MS = 30_000
const MAX_VERSION_OUTPUT_BYTES = 64 * 1024
// Longer output lines are cut in the log: one line must stay one readable log entry.
const MAX_LOGGED_LINE_CHARS = 2000
// After the command exits, its output streams get this long to end (a background process may hold them).
const OUTPUT_DRAIN_MS = 2000
// A version is substituted into a shell command, so it may hold no shell syntax.
const SAFE_VERSION = /^[0-9A-Za-z][0-9A-Za-z.+_-]{0,99}$/

/** True for a version safe to put into a shell command (`1.2.3`, `2.0.0-rc.1+build.5`). */
export function isSafeVersion (version: string): boolean {
  return SAFE_VERSION.test(version)
}

/** The rollback command for `version`: every `{version}` replaced. */
export function fillVersion (template: string, version: string): string {
  return template.replaceAll('{version}', version)
}

/** Runs the version command and returns the version it prints (last non-empty line), or undefined. */
export async function readVersion (spec: CommandSpec, log: Logger): Promise<string | undefined> {
  try {
    const { stdout } = await execFileAsync(spec.command, spec.args, {
      timeout: VERSION_TIMEOUT_MS, maxBuffer: MAX_VERSION_OUTPUT_BYTES, killSignal: 'SIGKILL', encoding: 'utf8',
    })
    const version = stdout.split('\n').map((line) => line.trim()).filter((line) => line !== '').at(-1) ?? ''
    if (isSafeVersion(version)) return version
    log.warn({ event: 'version', output: version.slice(0, 200) }, 'version command printed no usable version')
  } catch (err) {
    log.warn({ event: 'version', err }, 'version command failed')
  }
  return undefined
}

/**
 * Runs `command` through /bin/sh -c in its own process group, logging each output line under
 * `event` (e.g. `update-output`). Never rejects. After `stop` aborts, the command gets `graceMs`
 * to finish before its group is killed.
 */
export async function runShellCommand (command: string, event: string, log: Logger, stop: AbortSignal, graceMs: number): Promise<ChildExit> {
  // Why: its own group, so that Ctrl-C meant for the wrapper does not cut an install in half.
  const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  for (const [stream, readable] of [['stdout', child.stdout], ['stderr', child.stderr]] as const) {
    createInterface({ input: readable, crlfDelay: Infinity }).on('line', (line) => {
      try {
        log.info({ event, stream, line: line.slice(0, MAX_LOGGED_LINE_CHARS) }, 'command output')
      } catch { /* a log line must never break the command */ }
    })
  }
  let killTimer: NodeJS.Timeout | undefined
  const killGroup = (): void => {
    try {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
      log.warn({ event, commandPid: child.pid, graceMs }, 'command did not finish after stop; killing')
      signalGroup(child.pid, 'SIGKILL')
    } catch (err) {
      log.error({ err, event }, 'kill failed')
    }
  }
  const onStop = (): void => { killTimer ??= setTimeout(killGroup, graceMs) }
  stop.addEventListener('abort', onStop, { once: true })
  if (stop.aborted) onStop()
  try {
    return await new Promise<ChildExit>((resolve) => {
      // Why: 'close' comes after the output streams ended, so every line is logged before we go on.
      child.once('close', (code, signal) => resolve({ code, signal }))
      child.once('exit', () => {
        setTimeout(() => {
          child.stdout.destroy()
          child.stderr.destroy()
        }, OUTPUT_DRAIN_MS).unref()
      })
      child.once('error', (err) => {
        log.error({ err, event }, 'command did not start')
        resolve({ code: null, signal: null })
      })
    })
  } finally {
    clearTimeout(killTimer)
    stop.removeEventListener('abort', onStop)
  }
}
