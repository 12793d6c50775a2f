import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/** Where one job keeps its output and exit status. */
export interface JobFiles {
  dir: string
  stdout: string
  stderr: string
  exit: string
  /** ACP jobs: one JSON event per line. */
  events: string
  /** ACP jobs with `transcript: true`: every JSON-RPC message, one per line. */
  transcript: string
}

/** The files of job `id` under the state directory. */
export function jobFiles (stateDir: string, id: string): JobFiles {
  const dir = join(stateDir, 'jobs', id)
  // Why: `dir` is normalised already; four more joins showed up in the profile of GET /jobs/:id.
  return { dir, stdout: `${dir}/stdout`, stderr: `${dir}/stderr`, exit: `${dir}/exit`, events: `${dir}/events.ndjson`, transcript: `${dir}/acp.ndjson` }
}

/** Where terminal `terminalId` of an ACP job run in a persistent session keeps its output (stdout and stderr merged) and exit status, inside the job's folder. */
export function terminalFiles (job: JobFiles, terminalId: string): { dir: string, output: string, exit: string } {
  const dir = join(job.dir, 'terminals', terminalId)
  return { dir, output: join(dir, 'output'), exit: join(dir, 'exit') }
}

/** The exit status the job's wrapper recorded, or null when it recorded none. */
export function readExitFile (path: string): number | null {
  let text: string
  try { text = readFileSync(path, 'utf8').trim() } catch { return null }
  return /^\d+$/.test(text) ? Number(text) : null
}
