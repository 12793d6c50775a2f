import { RuntimeError, type RuntimeClient, type TerminalInfo } from '../client/index.js'
import type { CommandIo } from './io.js'

const since = (iso: string | null): string => {
  if (iso === null) return '-'
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000)
  return s < 60 ? `${Math.round(s)}s ago` : s < 3600 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`
}

/** A plain-text table of terminals, one line each. */
export function formatTerminalTable (terminals: readonly TerminalInfo[]): string {
  if (terminals.length === 0) return 'no open terminals\n'
  const header = ['ID', 'PID', 'CLIENTS', 'SIZE', 'CREATED', 'LAST INPUT', 'SHELL', 'WORKDIR']
  const rows = terminals.map((t) => [t.id, String(t.pid), String(t.clients), `${t.cols}x${t.rows}`, since(t.createdAt), since(t.lastInputAt), t.shell, t.workdir])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)))
  const line = (cells: string[]): string => cells.map((c, i) => i === cells.length - 1 ? c : c.padEnd(widths[i] as number)).join('  ')
  return [line(header), ...rows.map(line)].join('\n') + '\n'
}

/** `agent-server terminals`: the open terminals as a table, or (`json`) as the server's list. */
export async function runTerminals (client: RuntimeClient, options: { json?: boolean | undefined }, io: CommandIo): Promise<number> {
  const terminals = await client.terminals()
  io.stdout.write(options.json === true ? JSON.stringify(terminals, null, 2) + '\n' : formatTerminalTable(terminals))
  return 0
}

/** `agent-server terminals kill ID…`: ends each terminal and waits until its processes are gone. */
export async function runTerminalKill (client: RuntimeClient, ids: readonly string[], options: { json?: boolean | undefined }, io: CommandIo): Promise<number> {
  const ended = []
  for (const id of ids) {
    try {
      ended.push(await client.endTerminal(id))
    } catch (err) {
      if (err instanceof RuntimeError && err.code === 'TERMINAL_NOT_FOUND') throw new Error(`terminal ${id} not found (agent-server terminals lists the open ones)`, { cause: err })
      throw err
    }
  }
  io.stdout.write(options.json === true ? JSON.stringify(ended, null, 2) + '\n' : ended.map((e) => `${e.id} ${e.status}\n`).join(''))
  return 0
}
