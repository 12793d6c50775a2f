import type { Logger } from '../logger.js'
import { startHost } from './host-process.js'
import { runCommand } from './run-command.js'
import type { Tunnel, TunnelFailure } from './tunnel.js'
import { defaultTunnelId, findDevtunnelUrl, saysNotLoggedIn, terminalUrlFor } from './tunnel-url.js'

const COMMAND_TIMEOUT_MS = 15_000
const LOGIN_CHECK_TIMEOUT_MS = 10_000
const DEFAULT_URL_DEADLINE_MS = 15_000
const INSTALL_HINT = 'devtunnel is not installed; see https://aka.ms/devtunnels/download (the server runs without a tunnel)'
const LOGIN_HINT = 'devtunnel login expired or missing. Run: devtunnel user login (the server runs without a tunnel)'

/** What a devtunnel needs. */
export interface DevtunnelOptions {
  port: number
  /** The terminal port forwarded too (devpilot: port + 1, the default). */
  terminalPort?: number | undefined
  /** `--tunnel-id`; null applies the id rule and creates the tunnel and its ports. */
  tunnelId: string | null
  env: NodeJS.ProcessEnv
  log: Logger
  /** The program (default `devtunnel` on PATH). */
  command?: string | undefined
  urlDeadlineMs?: number
}

/** The connect token in `devtunnel token` output: the first `Token: eyJ…` line. */
export function parseToken (output: string): string | undefined {
  for (const line of output.split('\n')) {
    const match = /^Token:\s*(\S+)/.exec(line.trim())
    if (match?.[1]?.startsWith('eyJ') === true) return match[1]
  }
  return undefined
}

/**
 * devpilot's sequence: `user show` pre-flight; without an id, `create <id> --expiration 30d` and
 * `port create` for the port and the terminal port (port + 1); then `access create --anonymous`,
 * `port create` of the terminal port again, `token --scopes connect`, and `host <id>`, whose output
 * gives the URL.
 */
export async function openDevtunnel (options: DevtunnelOptions): Promise<Tunnel | TunnelFailure> {
  const { port, log } = options
  const terminalPort = options.terminalPort ?? port + 1
  const command = options.command ?? 'devtunnel'
  const run = async (args: string[], timeoutMs = COMMAND_TIMEOUT_MS): Promise<Awaited<ReturnType<typeof runCommand>>> => {
    const result = await runCommand(command, args, timeoutMs, log)
    log.debug({ event: 'tunnel-command', args, code: result.code }, 'devtunnel command finished')
    return result
  }
  const login = await run(['user', 'show'], LOGIN_CHECK_TIMEOUT_MS)
  if (login.missing) return { failed: INSTALL_HINT }
  if (login.code !== 0 || saysNotLoggedIn(login.output)) return { failed: LOGIN_HINT }

  const id = options.tunnelId ?? defaultTunnelId(options.env, port)
  // Results ignored, as devpilot: "already exists" is the usual answer after the first run.
  if (options.tunnelId === null) {
    await run(['create', id, '--expiration', '30d'])
    await run(['port', 'create', id, '-p', String(port)])
    await run(['port', 'create', id, '-p', String(terminalPort)])
  }
  await run(['access', 'create', id, '--anonymous'])
  await run(['port', 'create', id, '-p', String(terminalPort)])
  const issueToken = async (): Promise<string | undefined> => parseToken((await run(['token', id, '--scopes', 'connect'])).output)
  const token = await issueToken()
  if (token !== undefined) log.info({ event: 'tunnel-token', length: token.length }, 'tunnel token issued')

  const host = startHost({
    command,
    args: ['host', id],
    // Why: the host prints one URL per port, in port order; a terminal port below the main port comes first.
    findUrl: (line) => {
      const url = findDevtunnelUrl(line)
      return url !== undefined && !url.includes(`-${terminalPort}.`) ? url : undefined
    },
    fatal: (line) => saysNotLoggedIn(line) ? LOGIN_HINT : undefined,
    urlDeadlineMs: options.urlDeadlineMs ?? DEFAULT_URL_DEADLINE_MS,
    log,
  })
  const start = await host.started
  if (!start.ok) {
    host.close()
    if (start.reason === LOGIN_HINT) return { failed: LOGIN_HINT }
    return { failed: `devtunnel host gave no URL (${start.reason}). Check: devtunnel user show / devtunnel list (the server runs without a tunnel)` }
  }
  return {
    provider: 'devtunnel',
    id,
    url: start.url,
    terminalUrl: terminalUrlFor(start.url, port, terminalPort),
    token,
    get alive () { return host.alive },
    refreshToken: issueToken,
    close: host.close,
  }
}
