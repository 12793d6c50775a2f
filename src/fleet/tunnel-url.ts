// Pure helpers of the tunnel life cycle: ids, URL discovery in a tunnel's output, derived URLs.

const DEVTUNNEL_URL = /https:\/\/\S+\.devtunnels\.ms\S*/g
const CLOUDFLARED_URL = /https:\/\/[a-z0-9-]+\.trycloudflare\.com/

/** devpilot's tunnel id rule: `devpilot-<lower(COMPUTERNAME or HOSTNAME)>-<port>`, else `devpilot-<port>`. */
export function defaultTunnelId (env: NodeJS.ProcessEnv, port: number): string {
  const host = (env.COMPUTERNAME || env.HOSTNAME || '').toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '')
  return host === '' ? `devpilot-${port}` : `devpilot-${host}-${port}`
}

/** The first `*.devtunnels.ms` URL of a `devtunnel host` line (trailing comma removed, never the inspect URL). */
export function findDevtunnelUrl (line: string): string | undefined {
  for (const match of line.matchAll(DEVTUNNEL_URL)) {
    const url = match[0].replace(/,+$/, '')
    if (!url.includes('inspect')) return url
  }
  return undefined
}

/** The quick-tunnel URL of a `cloudflared tunnel` line. */
export function findCloudflaredUrl (line: string): string | undefined {
  return CLOUDFLARED_URL.exec(line)?.[0]
}

/**
 * devpilot's terminal URL: for a localhost URL every `:<digits>` becomes `:<terminalPort>`, otherwise
 * the first `-<port>.` becomes `-<terminalPort>.`; undefined when neither applies. devpilot's
 * terminal port is always port + 1 (the default here too).
 */
export function terminalUrlFor (url: string, port: number, terminalPort = port + 1): string | undefined {
  if (url.includes('localhost') || url.includes('127.0.0.1')) return url.replace(/:\d+/g, `:${terminalPort}`)
  const marker = `-${port}.`
  if (url.includes(marker)) return url.replace(marker, `-${terminalPort}.`)
  return undefined
}

/** True for a line of `devtunnel` output that says the login is missing or expired. */
export function saysNotLoggedIn (text: string): boolean {
  return /not logged in|login required/i.test(text)
}
