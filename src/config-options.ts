// The server's options: each one's flag, env twin and parser, and how one raw value is read (CLI over env).
import { parseAgentOverrides } from './acp/agent-registry.js'
import { SAFE_REF } from './update/install-source.js'
import { errorMessage } from './lib/error-message.js'

/** The log levels pino knows. */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
/** A pino log level. */
export type LogLevel = typeof LOG_LEVELS[number]

/** The tunnel providers `--tunnel` accepts. */
export const TUNNEL_PROVIDERS = ['devtunnel', 'cloudflared'] as const
/** A tunnel provider. */
export type TunnelProvider = typeof TUNNEL_PROVIDERS[number]

/** Raised for a bad flag, value or environment variable; the CLI exits 78 with its message. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

type Parser = (raw: string, name: string) => unknown

/** One server option: its flag (for the CLI), its env twin and how to parse it. */
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
  try { return parseAgentOverrides(raw) } catch (err) { throw new ConfigError(`${name} ${errorMessage(err)}`) }
}

/** The server's options, in the order `--help` shows them. */
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

/** Raw option values as the CLI parsed them: strings, or string lists for repeatable flags. */
export type RawOptions = Record<string, string | string[] | undefined>

/** The option's parsed value: from the CLI, else from its env twin, else undefined. */
export function readOption (spec: OptionSpec, cli: RawOptions, env: NodeJS.ProcessEnv): unknown {
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
