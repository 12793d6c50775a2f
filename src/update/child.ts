import { spawn } from 'node:child_process'
import type { Logger } from '../logger.js'
import type { ChildExit } from './child-exit.js'
import { signalGroup } from '../exec/process-group.js'

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
  const child = spawn(spec.command, spec.args, { stdio: ['ignore', 'inherit', 'inherit'], detached: true })
  let killTimer: NodeJS.Timeout | undefined
  const exited = new Promise<ChildExit>((resolve) => {
    child.once('exit', (code, signal) => {
      clearTimeout(killTimer)
      resolve({ code, signal })
    })
    child.on('error', (err) => {
      if (child.pid === undefined) {
        log.error({ err, event: 'child-error' }, 'child did not start')
        resolve({ code: null, signal: null })
      } else {
        log.error({ err, event: 'child-error', childPid: child.pid }, 'child error')
      }
    })
  })

  const killGroup = (): void => {
    try {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
      log.warn({ event: 'kill', childPid: child.pid, graceMs }, 'child did not stop in time; killing')
      if (!signalGroup(child.pid, 'SIGKILL')) child.kill('SIGKILL')
    } catch (err) {
      log.error({ err, event: 'kill' }, 'kill failed')
    }
  }

  const stop = (signal: NodeJS.Signals): void => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
    child.kill(signal)
    killTimer ??= setTimeout(killGroup, graceMs)
  }

  log.info({ event: 'child-start', childPid: child.pid, command: spec.command, args: spec.args }, 'child started')
  return { pid: child.pid, exited, stop }
}
