import { setTimeout as sleep } from 'node:timers/promises'
import { RuntimeClient } from '../client/index.js'
import { isSameProcess } from '../exec/process-group.js'
import { describeFleetState, readFleetState } from '../fleet/state-file.js'
import { readServerInfo } from '../update/server-info.js'
import { resolveCredentials } from './credentials.js'
import type { CommandIo } from './io.js'
import { endAllSessions } from './sessions.js'

const STOP_POLL_MS = 100

/** Seconds as `42s`, `3m 5s` or `2h 7m`. */
export const duration = (seconds: number): string => {
  const s = Math.round(seconds)
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`
}

/**
 * `agent-server status`: whether a server runs on this state directory, its version, uptime and
 * jobs; with `json`, one object (`running`, `stateDir`, and for a running server `pid`, `url`,
 * `version`, `startedAt`, `uptimeSeconds`, `health`, `fleet`). Exit 1 when none runs.
 */
export async function runStatus (stateDir: string, env: NodeJS.ProcessEnv, io: CommandIo, options: { json?: boolean } = {}): Promise<number> {
  const info = readServerInfo(stateDir)
  if (!info || !isSameProcess(info.pid, null)) {
    io.stdout.write(options.json === true ? JSON.stringify({ running: false, stateDir }, null, 2) + '\n' : `no server is running on ${stateDir}\n`)
    return 1
  }
  const { apiKey } = resolveCredentials({ url: info.url }, env, stateDir)
  const health = await new RuntimeClient({ url: info.url, ...(apiKey ? { apiKey } : {}) }).health()
  const queue = health.queue as { running: number, pending: number } | undefined
  const uptime = Date.now() / 1000 - info.startedAt
  const fleet = readFleetState(stateDir)
  if (options.json === true) {
    const liveFleet = fleet !== null && isSameProcess(fleet.pid, null) ? fleet : null
    io.stdout.write(JSON.stringify({ running: true, stateDir, ...info, uptimeSeconds: Math.round(uptime), health, fleet: liveFleet }, null, 2) + '\n')
    return 0
  }
  io.stdout.write(`agent-server ${info.version} is running: pid ${info.pid}, ${info.url}, up ${duration(uptime)}\n`)
  if (health.authenticated) io.stdout.write(`jobs: ${String(health.jobs)} (running ${queue?.running ?? 0}, pending ${queue?.pending ?? 0})\n`)
  io.stdout.write(describeFleetState(fleet, (pid) => isSameProcess(pid, null)))
  return 0
}

/**
 * `agent-server stop`: asks the server (and so its wrapper) to stop gracefully and waits for it.
 * Persistent shell sessions outlive a stop (the next server re-adopts them) unless `sessions` asks
 * to end them first.
 */
export async function runStop (stateDir: string, timeoutSec: number, io: CommandIo, options: { sessions?: boolean, env?: NodeJS.ProcessEnv } = {}): Promise<number> {
  const info = readServerInfo(stateDir)
  if (!info || !isSameProcess(info.pid, null)) {
    io.stdout.write(`no server is running on ${stateDir}\n`)
    return 0
  }
  if (options.sessions === true) {
    const { apiKey } = resolveCredentials({ url: info.url }, options.env ?? process.env, stateDir)
    const ended = await endAllSessions(new RuntimeClient({ url: info.url, ...(apiKey ? { apiKey } : {}) }))
    io.stdout.write(`ended ${ended} persistent shell session${ended === 1 ? '' : 's'}\n`)
  }
  process.kill(info.pid, 'SIGTERM')
  const deadline = Date.now() + timeoutSec * 1000
  while (isSameProcess(info.pid, null)) {
    if (Date.now() >= deadline) {
      io.stderr.write(`agent-server: the server (pid ${info.pid}) did not stop within ${timeoutSec} s\n`)
      return 1
    }
    await sleep(STOP_POLL_MS)
  }
  io.stdout.write(`stopped the server (pid ${info.pid})\n`)
  return 0
}
