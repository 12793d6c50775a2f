import type { Job, JobStatus, RuntimeClient } from '../client/index.js'
import { followOutput } from './follow.js'
import { writeAll, type CommandIo } from './io.js'

/** `agent-server logs JOB [-f]`: the output so far, or followed live until the job ends. */
export async function runLogs (client: RuntimeClient, jobId: string, follow: boolean, io: CommandIo): Promise<number> {
  if (follow) {
    await followOutput(client, jobId, io)
    return 0
  }
  const [stdout, stderr] = await Promise.all([client.stdout(jobId), client.stderr(jobId)])
  await writeAll(io.stdout, stdout)
  await writeAll(io.stderr, stderr)
  return 0
}

const age = (seconds: number | null): string => {
  if (seconds === null) return '-'
  const s = Math.max(0, Date.now() / 1000 - seconds)
  return s < 60 ? `${Math.round(s)}s ago` : s < 3600 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`
}

const duration = (ms: number | null): string => ms === null ? '-' : ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`

/** A plain-text table of jobs, one line each, the command cut to the terminal width. */
export function formatJobTable (jobs: readonly Job[], width = 120): string {
  const rows = jobs.map((j) => [j.jobId, j.status, j.exitCode === null ? '-' : String(j.exitCode), age(j.submittedAt), duration(j.durationMs), j.command.replaceAll('\n', ' ')])
  const header = ['JOB', 'STATUS', 'EXIT', 'SUBMITTED', 'TIME', 'COMMAND']
  const widths = header.slice(0, 5).map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)))
  const line = (cells: string[]): string => {
    const text = cells.slice(0, 5).map((c, i) => c.padEnd(widths[i] as number)).join('  ') + '  ' + cells[5]
    return text.length > width ? text.slice(0, width - 1) + '…' : text
  }
  return [line(header), ...rows.map(line)].join('\n') + '\n'
}

/** `agent-server jobs`: newest first, as a table or (with --json) as the server's JSON. */
export async function runJobs (client: RuntimeClient, options: { status?: JobStatus | undefined, limit?: number | undefined, json?: boolean | undefined }, io: CommandIo): Promise<number> {
  const jobs = await client.list({
    ...(options.status ? { status: options.status } : {}),
    ...(options.limit ? { limit: options.limit } : {}),
  })
  if (options.json) io.stdout.write(JSON.stringify(jobs, null, 2) + '\n')
  else io.stdout.write(formatJobTable(jobs, io.stdout.isTTY ? (process.stdout.columns || 120) : 10_000))
  return 0
}
