import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { HeartbeatResult } from './heartbeat.js'
import type { RegistrationState } from './registration.js'

const FLEET_FILE = 'fleet.json'

/** What `agent-server status` shows of the fleet: the tunnel, the registration and the last heartbeat. */
export interface FleetState {
  pid: number
  tunnel: { provider: string, id: string | null, url: string, terminalUrl: string | null } | { failed: string } | null
  registration: { dashboard: string, name: string, state: RegistrationState } | null
  heartbeat: HeartbeatResult | null
}

/** Writes fleet.json atomically (0600: it holds no secret, but it is the owner's business). */
export function writeFleetState (stateDir: string, state: FleetState): void {
  const path = join(stateDir, FLEET_FILE)
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 })
  renameSync(tmp, path)
}

/** The recorded fleet state, or null. */
export function readFleetState (stateDir: string): FleetState | null {
  try {
    return JSON.parse(readFileSync(join(stateDir, FLEET_FILE), 'utf8')) as FleetState
  } catch {
    return null
  }
}

/** The fleet lines of `agent-server status` (empty when the fleet is unused or its owner is gone). */
export function describeFleetState (state: FleetState | null, alive: (pid: number) => boolean): string {
  if (state === null || !alive(state.pid)) return ''
  const lines: string[] = []
  const { tunnel, registration, heartbeat } = state
  if (tunnel !== null) {
    lines.push('failed' in tunnel
      ? `tunnel: none (${tunnel.failed})`
      : `tunnel: ${tunnel.url} (${tunnel.provider}${tunnel.id !== null ? ` ${tunnel.id}` : ''})${tunnel.terminalUrl !== null ? `, terminal ${tunnel.terminalUrl}` : ''}`)
  }
  if (registration !== null) lines.push(`registration: ${registration.state} as ${registration.name} with ${registration.dashboard}`)
  if (heartbeat !== null) lines.push(`last heartbeat: ${new Date(heartbeat.at).toISOString()} ${heartbeat.status} → ${heartbeat.ok ? 'ok' : 'failed'} (${heartbeat.result})`)
  return lines.map((line) => `${line}\n`).join('')
}
