import type { Logger } from 'pino'
import { waitUntil } from '../lib/wait.js'
import type { ActiveRun } from './runs.js'
import type { ShellProcess } from './shell-process.js'

/** How long the shell has, after the SIGKILL stage, to write the exit status. */
export const AFTER_KILL_WAIT_MS = 2000
const KILL_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGKILL'] as const

/** Sends `signal` to the processes of command `jobId` in `shell` (never the shell); the number signalled. */
export function signalCommand (shell: ShellProcess, jobId: string, signal: NodeJS.Signals): number {
  let count = 0
  for (const pid of shell.commandProcesses(jobId)) {
    try { process.kill(pid, signal); count++ } catch { /* gone */ }
  }
  return count
}

/**
 * SIGINT, then SIGTERM, then SIGKILL to a command's processes (never the shell): each stage lasts
 * the grace (2 s for SIGKILL) and reaches processes that appear meanwhile. Resolves "done" as soon
 * as `isDone()`, or "stuck" when the shell still has not finished the command after the SIGKILL.
 */
export async function killCommand (shell: ShellProcess, jobId: string, isDone: () => boolean, graceMs: number): Promise<'done' | 'stuck'> {
  for (const signal of KILL_SIGNALS) {
    const signalled = new Set<number>()
    const reachNew = (): boolean => {
      if (isDone()) return true
      for (const pid of shell.commandProcesses(jobId)) {
        if (signalled.has(pid)) continue
        signalled.add(pid)
        try { process.kill(pid, signal) } catch { /* gone */ }
      }
      return false
    }
    if (await waitUntil(reachNew, signal === 'SIGKILL' ? AFTER_KILL_WAIT_MS : graceMs)) return 'done'
  }
  return isDone() ? 'done' : 'stuck'
}

/**
 * The kill sequence of a session's running command; a shell that does not finish the command even
 * then is stuck: it is ended (`run.stuck` set) and the shell's end finishes the run.
 */
export async function killRun (shell: ShellProcess | null, run: ActiveRun, graceMs: number, log: Logger): Promise<void> {
  if (!shell) return
  if (await killCommand(shell, run.request.jobId, () => run.done, graceMs) === 'done') return
  log.warn({ jobId: run.request.jobId }, 'session shell stuck after kill; ending it')
  run.stuck = true
  // Why only the shell: the command's processes got SIGKILL already; the session's other
  // background processes live on (and die with the session when it ends).
  try { process.kill(shell.pid, 'SIGKILL') } catch { /* gone meanwhile */ }
  await waitUntil(() => run.done, AFTER_KILL_WAIT_MS)
}
