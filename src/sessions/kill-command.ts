import { waitUntil } from '../lib/wait.js'
import type { ShellProcess } from './shell-process.js'

/** How long the shell has, after the SIGKILL stage, to write the exit status. */
export const AFTER_KILL_WAIT_MS = 2000
const KILL_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGKILL'] as const

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
