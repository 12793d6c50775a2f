import { readFileSync } from 'node:fs'
import { homedir, hostname } from 'node:os'
import { resolve } from 'node:path'
import { parseAgentOverrides } from './acp/agent-registry.js'
import { DEFAULT_MAX_SESSIONS, idleTimeoutSecFromEnv, maxSessionsFromEnv } from './sessions/limits.js'
import { SAFE_REF } from './update/install-source.js'

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

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = typeof LOG_LEVELS[number]

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

export const TUNNEL_PROVIDERS = ['devtunnel', 'cloudflared'] as const
export type TunnelProvider = typeof TUNNEL_PROVIDERS[number]

// Raised for a bad flag, value or environment variable; the CLI exits 78 with its message.
export class ConfigError extends Error {
  override name = 'ConfigError'
}

type Parser = (raw: string, name: string) => unknown

// One server option: its flag (for the CLI), its env twin and how to parse it.
export interface OptionSpec {
  key: string
  flag: string
  env: string
  description: string
  parse: Parser
  repeatable?: boolean
}

const integer = (min: number, max: number): Parser => (raw, name) => {
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be an integer, got "${raw}"`)
  const value = Number(raw)
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`)
  return value
}

const number = (min: number, max: number): Parser => (raw, name) => {
  const value = Number(raw)
  if (raw.trim() === '' || !Number.isFinite(value)) throw new ConfigError(`${name} must be a number, got "${raw}"`)
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`)
  return value
}

const text: Parser = (raw, name) => {
  if (raw.trim() === '') throw new ConfigError(`${name} must not be empty`)
  return raw
}

const logLevel: Parser = (raw, name) => {
  if (!(LOG_LEVELS as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${LOG_LEVELS.join(', ')}, got "${raw}"`)
  }
  return raw
}

const origin: Parser = (raw, name) => {
  let url: URL
  try { url = new URL(raw) } catch { throw new ConfigError(`${name} must be an origin like https://example.com, got "${raw}"`) }
  if (url.origin === 'null' || url.origin !== raw.replace(/\/$/, '')) {
    throw new ConfigError(`${name} must be an origin like https://example.com (scheme, host, port only), got "${raw}"`)
  }
  return url.origin
}

// Why: Commander gives `true` for a bare `--tunnel` (its value is optional); devtunnel is devpilot's.
const tunnelProvider: Parser = (raw, name) => {
  const value = String(raw).trim().toLowerCase()
  if (value === 'true' || value === '1' || value === '') return 'devtunnel'
  if (!(TUNNEL_PROVIDERS as readonly string[]).includes(value)) {
    throw new ConfigError(`${name} must be one of ${TUNNEL_PROVIDERS.join(', ')}, got "${String(raw)}"`)
  }
  return value
}

// devtunnel's own rule: lowercase letters, digits and hyphens (optionally `.region`).
const tunnelId: Parser = (raw, name) => {
  if (!/^[a-z0-9][a-z0-9-]{1,58}[a-z0-9](\.[a-z0-9]+)?$/.test(raw)) {
    throw new ConfigError(`${name} must be 3-60 lowercase letters, digits or hyphens, got "${raw}"`)
  }
  return raw
}

// Why so strict: the ref goes into the update's shell command.
const gitRef: Parser = (raw, name) => {
  if (!SAFE_REF.test(raw)) throw new ConfigError(`${name} must be a tag, commit or branch name (letters, digits, . _ / + -), got "${raw}"`)
  return raw
}

const boolean: Parser = (raw, name) => {
  // Why: commander passes `true` for a flag without a value; the env twin is text.
  const value = String(raw).trim().toLowerCase()
  if (['true', '1', 'yes'].includes(value)) return true
  if (['false', '0', 'no'].includes(value)) return false
  throw new ConfigError(`${name} must be true or false, got "${String(raw)}"`)
}

const dashboardUrl: Parser = (raw, name) => {
  let url: URL
  try { url = new URL(raw) } catch { throw new ConfigError(`${name} must be a URL like https://dashboard.example.com, got "${raw}"`) }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError(`${name} must be an https:// URL, got "${raw}"`)
  return url.href.replace(/\/+$/, '')
}

const agentsJson: Parser = (raw, name) => {
  try { return parseAgentOverrides(raw) } catch (err) { throw new ConfigError(`${name} ${(err as Error).message}`) }
}

// The server's options, in the order `--help` shows them.
export const SERVER_OPTIONS: readonly OptionSpec[] = [
  { key: 'port', flag: '--port <n>', env: 'AGENT_RUNTIME_PORT', description: 'TCP port (0 picks a free one)', parse: integer(0, 65535) },
  { key: 'host', flag: '--host <addr>', env: 'AGENT_RUNTIME_HOST', description: 'address to bind', parse: text },
  { key: 'stateDir', flag: '--state-dir <dir>', env: 'AGENT_RUNTIME_HOME', description: 'state directory (key, job database, logs)', parse: text },
  { key: 'logLevel', flag: '--log-level <level>', env: 'AGENT_RUNTIME_LOG_LEVEL', description: 'fatal|error|warn|info|debug|trace|silent', parse: logLevel },
  { key: 'maxConcurrentJobs', flag: '--max-concurrent-jobs <n>', env: 'AGENT_RUNTIME_MAX_CONCURRENT_JOBS', description: 'jobs running at once', parse: integer(1, 100_000) },
  { key: 'maxPendingJobs', flag: '--max-pending-jobs <n>', env: 'AGENT_RUNTIME_MAX_PENDING_JOBS', description: 'jobs waiting before POST /exec answers 429', parse: integer(0, 10_000_000) },
  { key: 'maxInlineOutput', flag: '--max-inline-output <bytes>', env: 'AGENT_RUNTIME_MAX_INLINE_OUTPUT', description: 'bytes of each stream inlined in GET /jobs/:id', parse: integer(1024, 1024 * 1024 * 1024) },
  { key: 'killGrace', flag: '--kill-grace <s>', env: 'AGENT_RUNTIME_KILL_GRACE', description: 'seconds between SIGTERM and SIGKILL', parse: number(0, 3600) },
  { key: 'jobRetention', flag: '--job-retention <n>', env: 'AGENT_RUNTIME_JOB_RETENTION', description: 'finished jobs kept', parse: integer(1, 10_000_000) },
  { key: 'jobRetentionDays', flag: '--job-retention-days <d>', env: 'AGENT_RUNTIME_JOB_RETENTION_DAYS', description: 'days a finished job is kept', parse: number(0.0001, 36500) },
  { key: 'corsOrigin', flag: '--cors-origin <origin>', env: 'AGENT_RUNTIME_CORS_ORIGINS', description: 'allowed browser origin (repeatable; env: comma-separated)', parse: origin, repeatable: true },
  { key: 'tlsCert', flag: '--tls-cert <file>', env: 'AGENT_RUNTIME_TLS_CERT', description: 'TLS certificate (PEM); serve HTTPS', parse: text },
  { key: 'tlsKey', flag: '--tls-key <file>', env: 'AGENT_RUNTIME_TLS_KEY', description: 'TLS private key (PEM)', parse: text },
  { key: 'terminalPort', flag: '--terminal-port <n>', env: 'AGENT_RUNTIME_TERMINAL_PORT', description: "devpilot's terminal WebSocket port (default: port + 1; 0 = off)", parse: integer(0, 65535) },
  { key: 'maxTerminals', flag: '--max-terminals <n>', env: 'AGENT_RUNTIME_MAX_TERMINALS', description: 'terminal sessions at once', parse: integer(0, 10_000) },
  { key: 'terminalOrphanTtl', flag: '--terminal-orphan-ttl <s>', env: 'AGENT_RUNTIME_TERMINAL_ORPHAN_TTL', description: 'seconds a terminal without clients waits to be reattached', parse: number(0, 7 * 86400) },
  { key: 'terminalIdleTimeout', flag: '--terminal-idle-timeout <s>', env: 'AGENT_RUNTIME_TERMINAL_IDLE_TIMEOUT', description: 'seconds without input before a terminal ends', parse: number(1, 30 * 86400) },
  { key: 'terminalLifetime', flag: '--terminal-lifetime <s>', env: 'AGENT_RUNTIME_TERMINAL_LIFETIME', description: 'seconds a terminal may live in total', parse: number(1, 365 * 86400) },
  { key: 'filesRoot', flag: '--files-root <dir>', env: 'AGENT_RUNTIME_FILES_ROOT', description: 'directory relative files API paths resolve against (default: the cwd)', parse: text },
  { key: 'filesConfine', flag: '--files-confine', env: 'AGENT_RUNTIME_FILES_CONFINE', description: 'keep every files API path inside --files-root (symlinks resolved)', parse: boolean },
  { key: 'maxUploadBytes', flag: '--max-upload-bytes <bytes>', env: 'AGENT_RUNTIME_MAX_UPLOAD_BYTES', description: 'largest PUT /files body (default 0 = no limit)', parse: integer(0, Number.MAX_SAFE_INTEGER) },
  { key: 'maxSessions', flag: '--max-sessions <n>', env: 'AGENT_RUNTIME_MAX_SESSIONS', description: "persistent shell sessions at once (also devpilot's DEVPILOT_PERSISTENT_SHELL_MAX_SESSIONS)", parse: integer(1, 10_000) },
  { key: 'sessionIdleTimeout', flag: '--session-idle-timeout <s>', env: 'AGENT_RUNTIME_SESSION_IDLE_TIMEOUT', description: "seconds unused before a persistent shell session ends; 0 = never (also devpilot's DEVPILOT_PERSISTENT_SHELL_IDLE_TIMEOUT_SECONDS)", parse: number(0, 365 * 86400) },
  { key: 'acpAgents', flag: '--acp-agents <json>', env: 'AGENT_RUNTIME_ACP_AGENTS', description: 'ACP agents by name: a JSON object of names to command lines, over the built-in ones', parse: agentsJson },
  { key: 'acpIdleTtl', flag: '--acp-idle-ttl <s>', env: 'AGENT_RUNTIME_ACP_IDLE_TTL', description: 'seconds an idle warm ACP agent is kept before it is ended (its session resumes on the next prompt); 0 = never', parse: number(0, 365 * 86400) },
  { key: 'maxAcpSessions', flag: '--max-acp-sessions <n>', env: 'AGENT_RUNTIME_MAX_ACP_SESSIONS', description: 'open warm ACP sessions at once (each may keep an agent running)', parse: integer(1, 1000) },
  { key: 'updateCommand', flag: '--update-command <cmd>', env: 'AGENT_RUNTIME_UPDATE_COMMAND', description: 'with --wrapper: installs the new version after exit 42 (default: matches how this copy was installed)', parse: text },
  { key: 'updateRef', flag: '--update-ref <ref>', env: 'AGENT_RUNTIME_UPDATE_REF', description: 'git checkout: the tag, commit or origin/BRANCH an update checks out (default: the newest version tag)', parse: gitRef },
  { key: 'rollbackCommand', flag: '--rollback-command <cmd>', env: 'AGENT_RUNTIME_ROLLBACK_COMMAND', description: 'with --wrapper: reinstalls {version} when the new one is not healthy', parse: text },
  { key: 'tunnel', flag: '--tunnel [provider]', env: 'AGENT_RUNTIME_TUNNEL', description: 'expose the server through a tunnel: devtunnel (default) or cloudflared', parse: tunnelProvider },
  { key: 'tunnelId', flag: '--tunnel-id <id>', env: 'AGENT_RUNTIME_TUNNEL_ID', description: 'devtunnel id (default devpilot-<host>-<port>)', parse: tunnelId },
  { key: 'register', flag: '--register <url>', env: 'AGENT_RUNTIME_REGISTER', description: 'register with this dashboard (https://) and send it heartbeats', parse: dashboardUrl },
  { key: 'name', flag: '--name <name>', env: 'AGENT_RUNTIME_NAME', description: 'name shown on the dashboard (default: host name)', parse: text },
  { key: 'heartbeatInterval', flag: '--heartbeat-interval <s>', env: 'AGENT_RUNTIME_HEARTBEAT_INTERVAL', description: 'seconds between dashboard heartbeats (0 = off)', parse: number(0, 86400) },
  { key: 'tokenRefreshInterval', flag: '--token-refresh-interval <s>', env: 'AGENT_RUNTIME_TOKEN_REFRESH_INTERVAL', description: 'seconds between devtunnel token refreshes', parse: number(1, 365 * 86400) },
  { key: 'allowInsecureDashboard', flag: '--allow-insecure-dashboard', env: 'AGENT_RUNTIME_ALLOW_INSECURE_DASHBOARD', description: 'accept a plain http:// --register URL that is not loopback', parse: boolean },
]

// Raw option values as the CLI parsed them: strings, or string lists for repeatable flags.
export type RawOptions = Record<string, string | string[] | undefined>

function readOption (spec: OptionSpec, cli: RawOptions, env: NodeJS.ProcessEnv): unknown {
  const flagName = spec.flag.split(' ')[0] ?? spec.key
  const fromCli = cli[spec.key]
  if (fromCli !== undefined) {
    const values = Array.isArray(fromCli) ? fromCli : [fromCli]
    const parsed = values.map((v) => spec.parse(v, flagName))
    return spec.repeatable === true ? parsed : parsed[parsed.length - 1]
  }
  const fromEnv = env[spec.env]
  if (fromEnv !== undefined && fromEnv !== '') {
    if (spec.repeatable === true) return fromEnv.split(',').map((v) => v.trim()).filter(Boolean).map((v) => spec.parse(v, spec.env))
    return spec.parse(fromEnv, spec.env)
  }
  return undefined
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
