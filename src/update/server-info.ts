import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const SERVER_INFO_FILE = 'server.json'

/** What `<state>/server.json` says about the server running on this state directory. */
export interface ServerInfo {
  pid: number
  url: string
  port: number
  version: string
  startedAt: number
}

/** Records the running server (mode 0600), for `agent-server status` and `stop`. */
export function writeServerInfo (stateDir: string, info: ServerInfo): void {
  const path = join(stateDir, SERVER_INFO_FILE)
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, JSON.stringify(info, null, 2) + '\n', { mode: 0o600 })
  renameSync(tmp, path)
}

/** The recorded server, or null when there is none (or the file is unreadable). */
export function readServerInfo (stateDir: string): ServerInfo | null {
  try {
    const info = JSON.parse(readFileSync(join(stateDir, SERVER_INFO_FILE), 'utf8')) as ServerInfo
    return Number.isInteger(info.pid) && typeof info.url === 'string' ? info : null
  } catch {
    return null
  }
}

/** Removes the record if it is this process's (a newer server may already have written its own). */
export function removeServerInfo (stateDir: string, pid: number): void {
  if (readServerInfo(stateDir)?.pid === pid) rmSync(join(stateDir, SERVER_INFO_FILE), { force: true })
}
