import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ExitInfo } from '../jobs/types.js'
import { signalName } from './process-group.js'

/** Where one job keeps its output and exit status. */
export interface JobFiles {
  dir: string
  stdout: string
  stderr: string
  exit: string
  /** ACP jobs: one JSON event per line. */
  events: string
}

/** The files of job `id` under the state directory. */
export function jobFiles (stateDir: string, id: string): JobFiles {
  const dir = join(stateDir, 'jobs', id)
  // Why: `dir` is normalised already; four more joins showed up in the profile of GET /jobs/:id.
  return { dir, stdout: `${dir}/stdout`, stderr: `${dir}/stderr`, exit: `${dir}/exit`, events: `${dir}/events.ndjson` }
}

/** The exit status the job's wrapper recorded, or null when it recorded none. */
export function readExitFile (path: string): number | null {
  let text: string
  try { text = readFileSync(path, 'utf8').trim() } catch { return null }
  return /^\d+$/.test(text) ? Number(text) : null
}

/** Turns a shell-style status into exit data: above 128 means the command died of signal status - 128. */
export function exitInfoFromStatus (status: number): ExitInfo {
  return { exitCode: status, signal: status > 128 ? signalName(status - 128) ?? null : null, error: null }
}
