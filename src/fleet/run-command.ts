import { execa } from 'execa'
import type { Logger } from '../logger.js'
import { killGroup } from '../update/group-kill.js'

/** How a short tunnel command ended: its exit code (null when it did not start or was killed) and output. */
export interface CommandResult {
  code: number | null
  /** stdout and stderr, interleaved. */
  output: string
  /** Set when the program is not installed (ENOENT). */
  missing: boolean
}

const MAX_OUTPUT_BYTES = 256 * 1024

/**
 * Runs `command args` without a shell, in its own process group; after `timeoutMs` the whole group
 * is killed. Never rejects.
 */
export async function runCommand (command: string, args: string[], timeoutMs: number, log: Logger): Promise<CommandResult> {
  const deadline = AbortSignal.timeout(timeoutMs)
  const subprocess = execa(command, args, {
    stdin: 'ignore',
    all: true,
    detached: true,
    maxBuffer: MAX_OUTPUT_BYTES,
    cancelSignal: deadline,
    killSignal: 'SIGKILL',
    forceKillAfterDelay: false,
    reject: false,
  })
  const onDeadline = (): void => {
    if (subprocess.pid !== undefined) killGroup(subprocess.pid, log, { event: 'tunnel-command', command })
  }
  deadline.addEventListener('abort', onDeadline, { once: true })
  try {
    const result = await subprocess
    const missing = (result.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT'
    return { code: result.exitCode ?? null, output: String(result.all ?? ''), missing }
  } finally {
    deadline.removeEventListener('abort', onDeadline)
  }
}
