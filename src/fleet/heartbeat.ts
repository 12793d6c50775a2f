import { get as httpGet } from 'node:http'
import { get as httpsGet } from 'node:https'
import type { Logger } from '../logger.js'
import { sleepLong } from '../lib/long-sleep.js'
import { callDashboard } from './dashboard.js'
import { errorMessage } from '../lib/error-message.js'

/** The server's state as a dashboard's status dot shows it. */
export interface ServerStatus {
  status: 'idle' | 'busy' | 'error'
  runningJobs: number
  terminals: number
  /** Why the server is degraded (status `error` only). */
  reason?: string
  /** The version the server itself reports (under a wrapper it changes with updates). */
  version?: string
}

/** The last heartbeat's outcome, for `agent-server status`. */
export interface HeartbeatResult {
  at: number
  ok: boolean
  status: ServerStatus['status']
  /** HTTP status, or the network error. */
  result: string
}

/** What heartbeats send and how often. */
export interface HeartbeatOptions {
  dashboard: string
  name: string
  version: string
  intervalMs: number
  /** The server's state now; must not reject (an unreachable server is status `error`). */
  probe: () => Promise<ServerStatus>
  tunnelUrl: () => string | undefined
  log: Logger
  signal: AbortSignal
  onResult?: (result: HeartbeatResult) => void
  /** Longest wait after repeated network errors. Default 15 minutes. */
  maxBackoffMs?: number
  /** How to wait (tests inject one); default `sleepLong`. Resolves false when `signal` aborted. */
  sleep?: (delayMs: number, signal: AbortSignal) => Promise<boolean>
}

const HEARTBEAT_TIMEOUT_MS = 10_000
const DEFAULT_MAX_BACKOFF_MS = 15 * 60_000
const PROBE_TIMEOUT_MS = 5000

/**
 * Sends `POST {dashboard}/api/register/heartbeat` now and every `intervalMs`, best-effort: a 404
 * turns heartbeats off with one log line, network errors double the wait (up to `maxBackoffMs`).
 * Resolves when `signal` aborts or heartbeats are turned off; never rejects.
 */
export async function runHeartbeats (options: HeartbeatOptions): Promise<void> {
  const { log, signal } = options
  let failures = 0
  while (!signal.aborted) {
    let status: ServerStatus = { status: 'error', runningJobs: 0, terminals: 0, reason: 'status unknown' }
    let result: HeartbeatResult
    try {
      status = await options.probe()
      const answer = await callDashboard('POST', `${options.dashboard}/api/register/heartbeat`, {
        name: options.name,
        status: status.status,
        ...(status.reason !== undefined ? { reason: status.reason } : {}),
        runningJobs: status.runningJobs,
        terminals: status.terminals,
        version: status.version ?? options.version,
        tunnel_url: options.tunnelUrl() ?? null,
      }, HEARTBEAT_TIMEOUT_MS, signal)
      failures = 0
      result = { at: Date.now(), ok: answer.status < 300, status: status.status, result: `HTTP ${answer.status}` }
      report(options, result)
      if (answer.status === 404) {
        log.warn({ event: 'heartbeat', dashboard: options.dashboard }, 'the dashboard has no heartbeat endpoint (404); heartbeats are off')
        return
      }
    } catch (err) {
      if (signal.aborted) return
      failures++
      result = { at: Date.now(), ok: false, status: status.status, result: String(errorMessage(err) ?? err) }
      report(options, result)
      log.debug({ event: 'heartbeat', err: result.result, failures }, 'heartbeat failed')
    }
    const delayMs = failures === 0
      ? options.intervalMs
      : Math.min(options.intervalMs * 2 ** Math.min(failures, 20), Math.max(options.intervalMs, options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS))
    if (!(await (options.sleep ?? sleepLong)(delayMs, signal))) return
  }
}

function report (options: HeartbeatOptions, result: HeartbeatResult): void {
  try { options.onResult?.(result) } catch (err) { options.log.error({ err }, 'heartbeat listener failed') }
}

/** The server's status from its own authenticated `GET /health`; `error` when it does not answer, refuses the key, or `tunnelDown`. */
export async function probeServer (healthUrl: string, apiKey: () => string, tunnelDown: () => boolean): Promise<ServerStatus> {
  const body = await readHealth(healthUrl, apiKey())
  if (body === undefined) return { status: 'error', runningJobs: 0, terminals: 0, reason: 'server not answering' }
  // Why: without the key /health still answers 200, but with no counts: that is not "idle".
  if (body.authenticated !== true) return { status: 'error', runningJobs: 0, terminals: 0, reason: 'server refused the API key' }
  const runningJobs = body.queue?.running ?? 0
  const terminals = body.terminal_sessions ?? 0
  const version = typeof body.version === 'string' ? { version: body.version } : {}
  if (tunnelDown()) return { status: 'error', runningJobs, terminals, reason: 'tunnel down', ...version }
  // Why an error: a server that cannot record jobs refuses them; the dashboard should send none.
  const storage = body.storage?.state
  if (storage === 'full' || storage === 'read-only') return { status: 'error', runningJobs, terminals, reason: `state directory ${storage}`, ...version }
  return { status: runningJobs > 0 || terminals > 0 ? 'busy' : 'idle', runningJobs, terminals, ...version }
}

interface HealthBody { authenticated?: unknown, queue?: { running?: number }, terminal_sessions?: number, version?: unknown, storage?: { state?: unknown } }

async function readHealth (url: string, key: string): Promise<HealthBody | undefined> {
  return await new Promise((resolve) => {
    try {
      const get = url.startsWith('https:') ? httpsGet : httpGet
      // Why: this is the server's own address (loopback unless --host names one of this machine's),
      // usually with a self-signed certificate, as in the wrapper's health check.
      const request = get(url, { headers: { 'x-api-key': key }, rejectUnauthorized: false, timeout: PROBE_TIMEOUT_MS }, (response) => {
        let text = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => { text += chunk })
        response.on('end', () => {
          try { resolve(response.statusCode === 200 ? JSON.parse(text) as HealthBody : undefined) } catch { resolve(undefined) }
        })
        response.on('error', () => resolve(undefined))
      })
      request.on('timeout', () => request.destroy())
      request.on('error', () => resolve(undefined))
    } catch {
      resolve(undefined)
    }
  })
}
