import { execa } from 'execa'
import { listenForErrors } from '../lib/child-errors.js'
import type { Logger } from '../logger.js'
import type { ChildExit } from './child-exit.js'
import { killGroupAfter } from '../exec/process-group.js'
import type { LongTimer } from '../lib/long-timer.js'

/** A program and its arguments, run without a shell. */
export interface CommandSpec {
  command: string
  args: string[]
}

/** The server child as the wrapper sees it. */
export interface RunningChild {
  pid: number | undefined
  /** Settles once the child has ended (or could not start); never rejects. */
  exited: Promise<ChildExit>
  /** Sends `signal`; the first call also arms a SIGKILL to the child's group after `graceMs`. */
  stop: (signal: NodeJS.Signals) => void
}

/** Starts the server child in its own process group, with the wrapper's stdout and stderr. */
export function startChild (spec: CommandSpec, log: Logger, graceMs: number): RunningChild {
  // Why: its own group, so a Ctrl-C in the terminal reaches only the wrapper, which forwards it once;
  // a second SIGINT would kill the server in the middle of its orderly stop. Stdin stays closed:
  // a background group reading the terminal would be stopped by SIGTTIN.
  const subprocess = execa(spec.command, spec.args, {
    stdin: 'ignore',
    stdout: 'inherit',
    stderr: 'inherit',
    detached: true,
    buffer: false,
    reject: false,
    // Why: execa would SIGKILL the server 5 s after a forwarded SIGTERM; the wrapper's grace decides.
    forceKillAfterDelay: false,
  })
  // Why: stop() calls subprocess.kill, which reports a failure as an 'error' event, also after execa stopped listening.
  listenForErrors(subprocess, (err, where) => log.warn({ event: 'child-error', err, where }, 'child process error'))
  const pid = subprocess.pid
  const running = (): boolean => pid !== undefined && subprocess.exitCode === null && subprocess.signalCode === null
  let killTimer: LongTimer | undefined
  const exited = subprocess.then((result) => {
    killTimer?.clear()
    if (pid === undefined) log.error({ err: result, event: 'child-error' }, 'child did not start')
    return { code: result.exitCode ?? null, signal: result.signal ?? null }
  })

  const stop = (signal: NodeJS.Signals): void => {
    if (!running() || pid === undefined) return
    subprocess.kill(signal)
    killTimer ??= killGroupAfter(pid, graceMs, running, {
      beforeKill: () => log.warn({ event: 'kill', childPid: pid, graceMs }, 'child did not stop in time; killing'),
      ifNoGroup: () => subprocess.kill('SIGKILL'),
    })
  }

  log.info({ event: 'child-start', childPid: pid, command: spec.command, args: spec.args }, 'child started')
  return { pid, exited, stop }
}
