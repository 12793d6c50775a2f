import type { RuntimeClient, SessionInfo } from '../client/index.js'
import type { CommandIo } from './io.js'

const age = (seconds: number | null): string => {
  if (seconds === null) return '-'
  const s = Math.max(0, Date.now() / 1000 - seconds)
  return s < 60 ? `${Math.round(s)}s ago` : s < 3600 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`
}

/** A plain-text table of sessions, one line each: key, shell, status, pid, running job, last use, cwd. */
export function formatSessionTable (sessions: readonly SessionInfo[]): string {
  const header = ['SESSION', 'SHELL', 'STATUS', 'PID', 'JOB', 'QUEUED', 'USED', 'CWD']
  const rows = sessions.map((s) => [s.sessionKey, s.shell, s.status, s.pid === null ? '-' : String(s.pid), s.jobId ?? '-', String(s.queuedJobIds.length), age(s.lastUsedAt), s.cwd ?? '-'])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)))
  const line = (cells: string[]): string => cells.map((c, i) => i === cells.length - 1 ? c : c.padEnd(widths[i] as number)).join('  ')
  return [line(header), ...rows.map(line)].join('\n') + '\n'
}

/** `agent-server sessions`: the server's persistent shell sessions, as a table or (with --json) as its JSON. */
export async function runSessions (client: RuntimeClient, options: { json?: boolean | undefined }, io: CommandIo): Promise<number> {
  const sessions = await client.sessions()
  if (options.json) io.stdout.write(JSON.stringify(sessions, null, 2) + '\n')
  else if (sessions.length === 0) io.stdout.write('no persistent shell sessions\n')
  else io.stdout.write(formatSessionTable(sessions))
  return 0
}

/** `agent-server sessions rm KEY…`: ends each session (its processes, running and queued commands). */
export async function runSessionRm (client: RuntimeClient, keys: readonly string[], io: CommandIo): Promise<number> {
  for (const key of keys) {
    await client.deleteSession(key)
    io.stdout.write(`ended session ${key}\n`)
  }
  return 0
}

/** Ends every session of the server (`agent-server stop --sessions`); the number ended. */
export async function endAllSessions (client: RuntimeClient): Promise<number> {
  let ended = 0
  for (const session of await client.sessions()) {
    try {
      await client.deleteSession(session.sessionKey)
      ended++
    } catch (err) {
      // Why: a session may end on its own (idle timeout) between the list and the delete.
      if ((err as { code?: string }).code !== 'SESSION_NOT_FOUND') throw err
    }
  }
  return ended
}
