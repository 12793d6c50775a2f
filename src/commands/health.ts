import type { Health, RuntimeClient } from '../client/index.js'
import type { CommandIo } from './io.js'
import { duration } from './lifecycle.js'

/** The few lines `agent-server health` prints for a person. */
export function formatHealth (health: Health, url: string): string {
  if (!health.authenticated) return `${url}: ${health.status} (not authenticated: only the status is shown)\n`
  const lines = [`${url}: ${health.status}, agent-server ${health.version ?? '?'} on ${health.hostname ?? '?'}, pid ${health.pid ?? '?'}, up ${duration(health.uptimeSeconds ?? 0)}${health.draining === true ? ', draining for an update' : ''}`]
  const queue = health.queue
  if (queue) lines.push(`jobs: ${health.jobs ?? 0} held; running ${queue.running}/${queue.maxConcurrent}, pending ${queue.pending}/${queue.maxPending}`)
  const shells = Object.entries(health.persistent_shell_shells ?? {}).filter(([, ok]) => ok).map(([name]) => name)
  lines.push(`terminals: ${health.terminal_sessions ?? 0} open; sessions: ${health.persistent_shell_sessions ?? 0}/${health.persistent_shell_max_sessions ?? '?'}${shells.length > 0 ? ` (${shells.join(', ')})` : ''}`)
  lines.push(`modes: ${(health.execution_modes ?? []).join(', ')}; cwd ${health.cwd ?? '?'}`)
  const storage = health.storage
  if (storage) {
    const free = storage.freeBytes === null ? 'free space unknown' : `${mebibytes(storage.freeBytes)} free`
    const unsaved = storage.unsavedJobs > 0 ? `; ${storage.unsavedJobs} job end(s) not saved yet` : ''
    lines.push(`state directory: ${storage.state === 'ok' ? 'ok' : `${storage.state.toUpperCase()}, new jobs are refused`}, ${free}${unsaved}`)
  }
  return lines.join('\n') + '\n'
}

function mebibytes (bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GiB` : `${(bytes / 1024 ** 2).toFixed(1)} MiB`
}

/**
 * `agent-server health`: the server's health in a few lines, or (`json`) the JSON it sent. Exit 1
 * with the reason on stderr when the server did not accept the key.
 */
export async function runHealth (client: RuntimeClient, options: { json?: boolean | undefined, hadKey: boolean }, io: CommandIo): Promise<number> {
  const health = await client.health()
  io.stdout.write(options.json === true ? JSON.stringify(health, null, 2) + '\n' : formatHealth(health, client.url))
  if (health.authenticated) return 0
  io.stderr.write(`agent-server: the server at ${client.url} ${options.hadKey ? 'refused the API key' : 'got no API key (none given, no local key file)'} (pass --key or set AGENT_RUNTIME_API_KEY)\n`)
  return 1
}
