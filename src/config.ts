import { readFileSync } from 'node:fs'
import { homedir, hostname } from 'node:os'
import { resolve } from 'node:path'
import { ConfigError, readOption, SERVER_OPTIONS, type LogLevel, type OptionSpec, type RawOptions, type TunnelProvider } from './config-options.js'
import { DEFAULT_MAX_SESSIONS, idleTimeoutSecFromEnv, maxSessionsFromEnv } from './sessions/limits.js'

// Why: the option table moved to config-options.ts; config.js stays the one entry its users import.
export { ConfigError, SERVER_OPTIONS, TUNNEL_PROVIDERS, type LogLevel, type OptionSpec, type RawOptions, type TunnelProvider } from './config-options.js'

// Every server setting with its default; `loadConfig` is the only place they are read.
export const DEFAULTS = Object.freeze({
  port: 8585,
  host: '127.0.0.1',
  stateDir: resolve(homedir(), '.agent-runtime'),
  logLevel: 'info' as LogLevel,
  maxConcurrentJobs: 32,
  maxPendingJobs: 1000,
  maxInlineOutput: 1024 * 1024,
  killGrace: 5,
  jobRetention: 1000,
  jobRetentionDays: 7,
  corsOrigin: [] as string[],
  maxTerminals: 8,
  terminalOrphanTtl: 300,
  terminalIdleTimeout: 900,
  terminalLifetime: 3600,
  maxSessions: DEFAULT_MAX_SESSIONS,
  sessionIdleTimeout: 0,
  acpIdleTtl: 300,
  maxAcpSessions: 16,
  // Why null: the commands depend on how this copy was installed (src/update/install-source.ts).
  updateCommand: null as string | null,
  rollbackCommand: null as string | null,
  updateRef: null as string | null,
  heartbeatInterval: 60,
  tokenRefreshInterval: 20 * 3600,
  filesRoot: process.cwd(),
  filesConfine: false,
  maxUploadBytes: 0,
})

// The validated, frozen settings every feature receives.
export interface Config {
  readonly port: number
  readonly host: string
  readonly stateDir: string
  readonly logLevel: LogLevel
  readonly maxConcurrentJobs: number
  readonly maxPendingJobs: number
  readonly maxInlineOutputBytes: number
  readonly killGraceMs: number
  readonly jobRetention: number
  readonly jobRetentionDays: number
  readonly corsOrigins: readonly string[]
  readonly tls: { readonly cert: Buffer, readonly key: Buffer } | null
  /** devpilot's terminal port (every path is the terminal socket), or null when off. */
  readonly terminalPort: { readonly port: number, readonly explicit: boolean } | null
  readonly maxTerminals: number
  readonly terminalOrphanTtlMs: number
  readonly terminalIdleTimeoutMs: number
  readonly terminalLifetimeMs: number
  /** Persistent shell sessions at once (devpilot's default 32). */
  readonly maxSessions: number
  /** A session unused this long with nothing running is ended; 0 = never. */
  readonly sessionIdleTimeoutMs: number
  /** The agent of a warm ACP session idle this long is ended (the session resumes on the next prompt); 0 = never. */
  readonly acpIdleTtlMs: number
  /** Open warm ACP sessions at most (each may keep an agent process running). */
  readonly maxAcpSessions: number
  /**
   * For `--wrapper`: how to install the new version after exit 42, and how to go back; null = the
   * commands that match how this copy was installed (git checkout, npm, container).
   */
  readonly updateCommand: string | null
  readonly rollbackCommand: string | null
  /** For a git checkout: the ref an update checks out instead of the newest version tag. */
  readonly updateRef: string | null
  /** Tunnel, dashboard registration and heartbeats (docs/operations.md, "Fleet"). */
  readonly fleet: FleetConfig
  /** Where relative paths of the files API resolve (absolute). */
  readonly filesRoot: string
  /** When true, every files API path must stay inside `filesRoot` after resolving symlinks. */
  readonly filesConfine: boolean
  /** Largest PUT /files body in bytes, or null for no limit but the disk. */
  readonly maxUploadBytes: number | null
  /** ACP agents by name (`--acp-agents`): command lines over the built-in table of acp/agent-registry.ts. */
  readonly acpAgents: Readonly<Record<string, string>>
}

/** The fleet settings: `--tunnel`, `--tunnel-id`, `--register`, `--name` and their companions. */
export interface FleetConfig {
  readonly tunnel: TunnelProvider | null
  /** devtunnel only; null = the id rule (`devpilot-<host>-<port>`). */
  readonly tunnelId: string | null
  /** The dashboard's base URL (no trailing slash), or null. */
  readonly register: string | null
  readonly name: string
  readonly heartbeatIntervalMs: number
  readonly tokenRefreshIntervalMs: number
}

function readTls (certPath: string | undefined, keyPath: string | undefined): Config['tls'] {
  if (certPath === undefined && keyPath === undefined) return null
  if (certPath === undefined || keyPath === undefined) throw new ConfigError('--tls-cert and --tls-key must be given together')
  const read = (path: string, flag: string): Buffer => {
    try { return readFileSync(path) } catch (err) {
      throw new ConfigError(`${flag}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
    }
  }
  return { cert: read(certPath, '--tls-cert'), key: read(keyPath, '--tls-key') }
}

function readTerminalPort (port: number, terminalPort: number | undefined): Config['terminalPort'] {
  if (terminalPort === 0) return null
  if (terminalPort !== undefined) {
    if (terminalPort === port) throw new ConfigError(`--terminal-port must differ from --port (${port})`)
    return { port: terminalPort, explicit: true }
  }
  // Why: with --port 0 (an ephemeral port) there is no "port + 1" to derive.
  return port === 0 || port === 65535 ? null : { port: port + 1, explicit: false }
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

function readFleet (value: Record<string, unknown>, env: NodeJS.ProcessEnv): FleetConfig {
  const tunnel = (value.tunnel as TunnelProvider | undefined) ?? null
  const tunnelIdValue = (value.tunnelId as string | undefined) ?? null
  if (tunnelIdValue !== null && tunnel === 'cloudflared') throw new ConfigError('--tunnel-id is for --tunnel devtunnel; a cloudflared quick tunnel has no id')
  const register = (value.register as string | undefined) ?? null
  if (register !== null && value.allowInsecureDashboard !== true) {
    const url = new URL(register)
    // Why: the registration sends the API key; over plain http anyone on the path could read it.
    if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname) && !url.hostname.startsWith('127.')) {
      throw new ConfigError(`--register must be an https:// URL (the API key is sent to it), got "${register}"; --allow-insecure-dashboard accepts it`)
    }
  }
  return Object.freeze({
    tunnel,
    tunnelId: tunnelIdValue,
    register,
    name: (value.name as string | undefined) ?? (env.COMPUTERNAME || hostname() || 'devbox'),
    heartbeatIntervalMs: Math.round(((value.heartbeatInterval as number | undefined) ?? DEFAULTS.heartbeatInterval) * 1000),
    tokenRefreshIntervalMs: Math.round(((value.tokenRefreshInterval as number | undefined) ?? DEFAULTS.tokenRefreshInterval) * 1000),
  })
}

const STATE_DIR_OPTION = SERVER_OPTIONS.find((spec) => spec.key === 'stateDir') as OptionSpec

/**
 * The absolute state directory: `--state-dir`, else AGENT_RUNTIME_HOME, else ~/.agent-runtime. The one
 * resolver for the server and for commands that need only the directory (`key`, `status`, `stop`, clients).
 */
export function resolveStateDir (stateDir: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve((readOption(STATE_DIR_OPTION, { stateDir }, env) as string | undefined) ?? DEFAULTS.stateDir)
}

/** Validates CLI options over env over defaults, once, and returns frozen settings. */
export function loadConfig (cli: RawOptions = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const value: Record<string, unknown> = {}
  for (const spec of SERVER_OPTIONS) value[spec.key] = readOption(spec, cli, env)
  const pick = <T>(key: string, fallback: T): T => (value[key] ?? fallback) as T
  return Object.freeze({
    port: pick('port', DEFAULTS.port),
    host: pick('host', DEFAULTS.host),
    stateDir: resolveStateDir(cli.stateDir as string | undefined, env),
    logLevel: pick('logLevel', DEFAULTS.logLevel),
    maxConcurrentJobs: pick('maxConcurrentJobs', DEFAULTS.maxConcurrentJobs),
    maxPendingJobs: pick('maxPendingJobs', DEFAULTS.maxPendingJobs),
    maxInlineOutputBytes: pick('maxInlineOutput', DEFAULTS.maxInlineOutput),
    killGraceMs: Math.round(pick('killGrace', DEFAULTS.killGrace) * 1000),
    jobRetention: pick('jobRetention', DEFAULTS.jobRetention),
    jobRetentionDays: pick('jobRetentionDays', DEFAULTS.jobRetentionDays),
    corsOrigins: Object.freeze([...pick<string[]>('corsOrigin', DEFAULTS.corsOrigin)]),
    tls: readTls(value.tlsCert as string | undefined, value.tlsKey as string | undefined),
    terminalPort: readTerminalPort(pick('port', DEFAULTS.port), value.terminalPort as number | undefined),
    maxTerminals: pick('maxTerminals', DEFAULTS.maxTerminals),
    terminalOrphanTtlMs: Math.round(pick('terminalOrphanTtl', DEFAULTS.terminalOrphanTtl) * 1000),
    terminalIdleTimeoutMs: Math.round(pick('terminalIdleTimeout', DEFAULTS.terminalIdleTimeout) * 1000),
    terminalLifetimeMs: Math.round(pick('terminalLifetime', DEFAULTS.terminalLifetime) * 1000),
    // Why: devpilot's variables are honoured, leniently as devpilot read them, below our own flag and env.
    maxSessions: pick('maxSessions', maxSessionsFromEnv(env.DEVPILOT_PERSISTENT_SHELL_MAX_SESSIONS) ?? DEFAULTS.maxSessions),
    sessionIdleTimeoutMs: Math.round(pick('sessionIdleTimeout', idleTimeoutSecFromEnv(env.DEVPILOT_PERSISTENT_SHELL_IDLE_TIMEOUT_SECONDS) ?? DEFAULTS.sessionIdleTimeout) * 1000),
    acpIdleTtlMs: Math.round(pick('acpIdleTtl', DEFAULTS.acpIdleTtl) * 1000),
    maxAcpSessions: pick('maxAcpSessions', DEFAULTS.maxAcpSessions),
    updateCommand: pick('updateCommand', DEFAULTS.updateCommand),
    rollbackCommand: pick('rollbackCommand', DEFAULTS.rollbackCommand),
    updateRef: pick('updateRef', DEFAULTS.updateRef),
    fleet: readFleet(value, env),
    filesRoot: resolve(pick('filesRoot', DEFAULTS.filesRoot)),
    filesConfine: pick('filesConfine', DEFAULTS.filesConfine),
    maxUploadBytes: pick('maxUploadBytes', DEFAULTS.maxUploadBytes) || null,
    acpAgents: Object.freeze({ ...pick<Record<string, string>>('acpAgents', {}) }),
  })
}
