import { execa } from 'execa'
import type { Logger } from '../logger.js'
import type { ChildExit } from './child-exit.js'
import type { CommandSpec } from './child.js'
import { listenForErrors } from '../lib/child-errors.js'
import { killGroupAfter, signalGroup } from '../exec/process-group.js'
import type { LongTimer } from '../lib/long-timer.js'

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

/**
 * Runs the version command and returns the version it prints (last non-empty line), or undefined.
 * After `timeoutMs` its whole process group is killed.
 */
export async function readVersion (spec: CommandSpec, log: Logger, timeoutMs = VERSION_TIMEOUT_MS): Promise<string | undefined> {
  const deadline = AbortSignal.timeout(timeoutMs)
  const subprocess = execa(spec.command, spec.args, {
    stdin: 'ignore',
    stderr: 'ignore',
    detached: true,
    maxBuffer: MAX_VERSION_OUTPUT_BYTES,
    cancelSignal: deadline,
    killSignal: 'SIGKILL',
    forceKillAfterDelay: false,
    reject: false,
  })
  listenForErrors(subprocess, (err, where) => log.debug({ event: 'version', err, where }, 'version command error'))
  const onDeadline = (): void => {
    if (subprocess.pid !== undefined) signalGroup(subprocess.pid, 'SIGKILL')
  }
  deadline.addEventListener('abort', onDeadline, { once: true })
  try {
    const result = await subprocess
    if (result.failed) {
      log.warn({ event: 'version', err: result }, 'version command failed')
      return undefined
    }
    const version = result.stdout.split('\n').map((line) => line.trim()).filter((line) => line !== '').at(-1) ?? ''
    if (isSafeVersion(version)) return version
    log.warn({ event: 'version', output: version.slice(0, 200) }, 'version command printed no usable version')
    return undefined
  } finally {
    deadline.removeEventListener('abort', onDeadline)
  }
}

/** An execa line transform that logs each line of `stream` under `event` and passes nothing on. */
function logLines (log: Logger, event: string, stream: 'stdout' | 'stderr'): (line: unknown) => Generator<never, void, void> {
  return function * (line: unknown) {
    // Why: progress output redraws with a bare \r; each redraw is a line of its own, as readline had it.
    const parts = String(line).split('\r').filter((part, i) => part !== '' || i === 0)
    for (const part of parts) {
      try {
        log.info({ event, stream, line: part.slice(0, MAX_LOGGED_LINE_CHARS) }, 'command output')
      } catch { /* a log line must never break the command */ }
    }
  }
}

/**
 * Runs `command` through /bin/sh -c in its own process group, logging each output line under
 * `event` (e.g. `update-output`). Never rejects. After `stop` aborts, the command gets `graceMs`
 * to finish before its group is killed.
 */
export async function runShellCommand (command: string, event: string, log: Logger, stop: AbortSignal, graceMs: number): Promise<ChildExit> {
  // Why: its own group, so that Ctrl-C meant for the wrapper does not cut an install in half.
  const subprocess = execa('/bin/sh', ['-c', command], {
    stdin: 'ignore',
    stdout: logLines(log, event, 'stdout'),
    stderr: logLines(log, event, 'stderr'),
    detached: true,
    buffer: false,
    reject: false,
    forceKillAfterDelay: false,
  })
  listenForErrors(subprocess, (err, where) => log.debug({ event, err, where }, 'command error'))
  const pid = subprocess.pid
  let killTimer: LongTimer | undefined
  const onStop = (): void => {
    if (pid === undefined) return
    const running = (): boolean => subprocess.exitCode === null && subprocess.signalCode === null
    killTimer ??= killGroupAfter(pid, graceMs, running, {
      beforeKill: () => log.warn({ event, commandPid: pid, graceMs }, 'command did not finish after stop; killing'),
    })
  }
  stop.addEventListener('abort', onStop, { once: true })
  if (stop.aborted) onStop()
  // Why: execa settles once the output streams ended, so every line is logged before we go on; a
  // background process of the command may hold them open, so after the exit they get a short while.
  let drainTimer: NodeJS.Timeout | undefined
  subprocess.once('exit', () => {
    drainTimer = setTimeout(() => {
      subprocess.stdout?.destroy()
      subprocess.stderr?.destroy()
    }, OUTPUT_DRAIN_MS).unref()
  })
  try {
    const result = await subprocess
    if (pid === undefined) log.error({ err: result, event }, 'command did not start')
    return { code: result.exitCode ?? null, signal: result.signal ?? null }
  } finally {
    killTimer?.clear()
    clearTimeout(drainTimer)
    stop.removeEventListener('abort', onStop)
  }
}
