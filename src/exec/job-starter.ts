import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Logger } from '../logger.js'
import { JobProcess, type SpawnOptions } from './job-process.js'
import { Launcher } from './launcher.js'

/** Starts job processes; one per job runner, closed with it. */
export interface JobStarter {
  /** Starts `shell -c command` in a new process group, output going straight into the job's files. */
  start: (options: SpawnOptions) => Promise<JobProcess>
  /** Moves a job folder made ahead of time to `dir` (the launcher's); false when there is none (the caller makes `dir`). */
  takeFolder: (dir: string) => boolean
  /** Stops starting jobs; running jobs go on. Idempotent. */
  close: () => void
}

/** The launcher built by `npm run build:launcher` (src/exec and dist/exec are both two levels down). */
export const LAUNCHER_BINARY = fileURLToPath(new URL('../../native/launcher/build/Release/agent-launcher', import.meta.url))

let warned = false

/**
 * The launcher when it is built (or `AGENT_RUNTIME_LAUNCHER` names one), else Node's spawn with one
 * warning per process. `AGENT_RUNTIME_LAUNCHER=off` chooses Node's spawn without a warning.
 */
export function createJobStarter (log: Logger): JobStarter {
  const setting = process.env.AGENT_RUNTIME_LAUNCHER
  const fallback = (options: SpawnOptions): Promise<JobProcess> => JobProcess.start(options)
  const none = { start: fallback, takeFolder: () => false, close: () => {} }
  if (setting === 'off') return none
  const binary = setting ?? LAUNCHER_BINARY
  if (!existsSync(binary)) {
    if (!warned) {
      warned = true
      log.warn({ binary }, 'job launcher is not built: jobs start through Node\'s spawn, which stops the server for several ms per job (run `npm run build:launcher`; see docs/operations.md)')
    }
    return none
  }
  const launcher = new Launcher(binary, log, fallback)
  return { start: (options) => launcher.start(options), takeFolder: (dir) => launcher.takeFolder(dir), close: () => launcher.close() }
}
