import type { FleetConfig } from '../config.js'
import type { Logger } from '../logger.js'
import { sleepLong } from '../lib/long-sleep.js'
import { waitForHealthy } from '../update/health.js'
import { openCloudflared } from './cloudflared.js'
import { callDashboard } from './dashboard.js'
import { openDevtunnel } from './devtunnel.js'
import { probeServer, runHeartbeats } from './heartbeat.js'
import { register } from './registration.js'
import { writeFleetState, type FleetState } from './state-file.js'
import { tunnelEnv, type Tunnel } from './tunnel.js'

/** What the fleet of one process (the server, or the wrapper that owns it) needs. */
export interface FleetOptions {
  fleet: FleetConfig
  /** The server's main port (the one the tunnel forwards). */
  port: number
  /** devpilot's terminal port, forwarded by a devtunnel too; default port + 1. */
  terminalPort?: number | undefined
  /** The server's local base URL, e.g. http://127.0.0.1:8585 (health, heartbeat probes). */
  localUrl: string
  stateDir: string
  version: string
  apiKey: () => string
  /** Environment written with DEVPILOT_TUNNEL_URL & co. (process.env, so children see them). */
  env: NodeJS.ProcessEnv
  /** Lines for the user (stderr). */
  print: (text: string) => void
  log: Logger
  /** Tunnel programs (tests; default on PATH). */
  commands?: { devtunnel?: string, cloudflared?: string }
  /** Registration timings (tests). */
  registration?: { pollIntervalMs?: number, pollTimeoutMs?: number, retryDelayMs?: number }
  /** How long to wait for the server's /health before registering. Default 120 s. */
  serverDeadlineMs?: number
}

const DEFAULT_SERVER_DEADLINE_MS = 120_000

/**
 * The fleet pieces of one process: the tunnel (opened by `start`), then in the background the
 * registration, heartbeats and token refresh. `close()` ends them all, host process included.
 */
export class Fleet {
  readonly #options: FleetOptions
  readonly #log: Logger
  readonly #stop = new AbortController()
  readonly #state: FleetState
  readonly #background: Array<Promise<void>> = []
  #tunnel: Tunnel | undefined
  #closed = false

  private constructor (options: FleetOptions) {
    this.#options = options
    this.#log = options.log.child({ component: 'fleet' })
    this.#state = { pid: process.pid, tunnel: null, registration: null, heartbeat: null }
  }

  /** Opens the tunnel (a failure is one printed line; the server runs on) and starts the rest. */
  static async start (options: FleetOptions): Promise<Fleet> {
    const fleet = new Fleet(options)
    try {
      await fleet.#openTunnel()
      fleet.#startBackground()
    } catch (err) {
      fleet.#log.error({ err }, 'fleet start failed')
    }
    return fleet
  }

  /** The open tunnel, if any. */
  get tunnel (): Tunnel | undefined {
    return this.#tunnel
  }

  async #openTunnel (): Promise<void> {
    const { fleet, port, log } = { ...this.#options, log: this.#log }
    if (fleet.tunnel === null) return
    const commands = this.#options.commands ?? {}
    const opened = fleet.tunnel === 'cloudflared'
      ? await openCloudflared({ port, log, command: commands.cloudflared })
      : await openDevtunnel({ port, terminalPort: this.#options.terminalPort, tunnelId: fleet.tunnelId, env: this.#options.env, log, command: commands.devtunnel })
    if (this.#closed) {
      if (!('failed' in opened)) opened.close()
      return
    }
    if ('failed' in opened) {
      this.#options.print(`agent-server: ${opened.failed}\n`)
      this.#log.warn({ event: 'tunnel', reason: opened.failed }, 'no tunnel')
      this.#state.tunnel = { failed: opened.failed }
      this.#save()
      return
    }
    this.#tunnel = opened
    Object.assign(this.#options.env, tunnelEnv(opened))
    this.#options.print(`Tunnel: ${opened.url}\n${opened.terminalUrl !== undefined ? `Terminal tunnel: ${opened.terminalUrl}\n` : ''}`)
    this.#log.info({ event: 'tunnel', provider: opened.provider, id: opened.id, url: opened.url, terminalUrl: opened.terminalUrl }, 'tunnel open')
    this.#state.tunnel = { provider: opened.provider, id: opened.id, url: opened.url, terminalUrl: opened.terminalUrl ?? null }
    this.#save()
  }

  #startBackground (): void {
    const { fleet } = this.#options
    if (fleet.register === null) return
    this.#background.push(this.#registerThenHeartbeat(fleet.register))
    if (this.#tunnel?.provider === 'devtunnel') this.#background.push(this.#refreshTokens(fleet.register, this.#tunnel))
  }

  #urls (): { tunnelUrl: string, terminalUrl: string, token: string } {
    const { env, port } = this.#options
    return {
      tunnelUrl: env.DEVPILOT_TUNNEL_URL || `http://localhost:${port}`,
      terminalUrl: env.DEVPILOT_TERMINAL_URL || `http://localhost:${this.#options.terminalPort ?? port + 1}`,
      token: env.DEVPILOT_TUNNEL_TOKEN ?? '',
    }
  }

  async #registerThenHeartbeat (dashboard: string): Promise<void> {
    const { fleet, log } = { ...this.#options, log: this.#log }
    const signal = this.#stop.signal
    try {
      // Why: devpilot slept 3 s and hoped the server had its key by then; we wait for /health.
      const up = await waitForHealthy(`${this.#options.localUrl}/health`, this.#options.serverDeadlineMs ?? DEFAULT_SERVER_DEADLINE_MS, signal)
      if (!up) {
        if (!signal.aborted) log.warn({ event: 'register' }, 'the server did not answer /health; not registering')
        return
      }
      const urls = this.#urls()
      this.#state.registration = { dashboard, name: fleet.name, state: 'pending' }
      this.#save()
      const state = await register({
        dashboard,
        name: fleet.name,
        tunnelUrl: urls.tunnelUrl,
        terminalUrl: urls.terminalUrl,
        tunnelToken: urls.token,
        apiKey: this.#options.apiKey,
        print: this.#options.print,
        log,
        signal,
        onState: (next) => {
          if (this.#state.registration) this.#state.registration.state = next
          this.#save()
        },
        ...this.#options.registration,
      })
      if ((state !== 'reregistered' && state !== 'confirmed') || fleet.heartbeatIntervalMs === 0) return
      await runHeartbeats({
        dashboard,
        name: fleet.name,
        version: this.#options.version,
        intervalMs: fleet.heartbeatIntervalMs,
        probe: async () => await probeServer(`${this.#options.localUrl}/health`, this.#options.apiKey,
          () => this.#options.fleet.tunnel !== null && this.#tunnel?.alive !== true),
        tunnelUrl: () => this.#tunnel?.url ?? (this.#options.env.DEVPILOT_TUNNEL_URL || undefined),
        log,
        signal,
        onResult: (result) => {
          this.#state.heartbeat = result
          this.#save()
        },
      })
    } catch (err) {
      log.error({ err, event: 'register' }, 'registration or heartbeats failed')
    }
  }

  // devpilot's 20 h refresh, fixed: the id is the one created, the name is --name.
  async #refreshTokens (dashboard: string, tunnel: Tunnel): Promise<void> {
    const signal = this.#stop.signal
    while (await sleepLong(this.#options.fleet.tokenRefreshIntervalMs, signal)) {
      try {
        const token = await tunnel.refreshToken()
        if (token === undefined || signal.aborted) {
          if (!signal.aborted) this.#log.warn({ event: 'token-refresh', id: tunnel.id }, 'devtunnel issued no token')
          continue
        }
        tunnel.token = token
        this.#options.env.DEVPILOT_TUNNEL_TOKEN = token
        const key = this.#options.apiKey()
        const answer = await callDashboard('POST', `${dashboard}/api/register/refresh-token`, {
          name: this.#options.fleet.name,
          tunnel_url: tunnel.url,
          terminal_url: tunnel.terminalUrl ?? this.#urls().terminalUrl,
          tunnel_token: token,
          api_key: key,
          current_api_key: key,
        }, 15_000, signal)
        this.#log.info({ event: 'token-refresh', id: tunnel.id, status: answer.status, length: token.length }, 'tunnel token refreshed')
      } catch (err) {
        if (!signal.aborted) this.#log.warn({ event: 'token-refresh', err: String(err) }, 'tunnel token refresh failed')
      }
    }
  }

  #save (): void {
    if (this.#state.registration === null && this.#state.tunnel === null) return
    try {
      writeFleetState(this.#options.stateDir, this.#state)
    } catch (err) {
      this.#log.warn({ err }, 'cannot write fleet.json')
    }
  }

  /** Stops registration, heartbeats and refreshes, and ends the tunnel host; idempotent. */
  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#stop.abort()
    this.#tunnel?.close()
    await Promise.allSettled(this.#background)
  }
}
