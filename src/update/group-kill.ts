import type { Logger } from '../logger.js'
import { signalGroup } from '../exec/process-group.js'

// Why: execa's kill, timeout and cancelSignal reach only the direct child, and a background process
// of a command keeps its pipes (and execa's promise) open. The wrapper's processes run in their own
// group (`detached`), and a forced stop kills that whole group.
/** SIGKILLs every process of the group led by `pid`; false when no such group is left. Never throws. */
export function killGroup (pid: number, log: Logger, fields: Record<string, unknown>): boolean {
  try {
    return signalGroup(pid, 'SIGKILL')
  } catch (err) {
    log.error({ err, ...fields }, 'kill failed')
    return false
  }
}
