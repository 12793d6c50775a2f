import type { TunnelProvider } from '../config.js'

/** An open tunnel: its public URLs and the way to close it. */
export interface Tunnel {
  provider: TunnelProvider
  /** devtunnel's id (the one created, used again for every token refresh); null for cloudflared. */
  id: string | null
  url: string
  /** devpilot's terminal URL (port + 1), when it can be derived. */
  terminalUrl: string | undefined
  /** The devtunnel connect token (`eyJ…`), when one was issued. */
  token: string | undefined
  /** True while the host process runs. */
  readonly alive: boolean
  /** Issues a fresh connect token for the same tunnel id; undefined when none came. */
  refreshToken: () => Promise<string | undefined>
  /** Ends the host process (its whole group); idempotent. */
  close: () => void
}

/** Why no tunnel was opened: one line for the user; the server runs on without a tunnel. */
export interface TunnelFailure {
  failed: string
}

/** The environment devpilot's registration reads (§6.6): `DEVPILOT_TUNNEL_URL`, `…TERMINAL_URL`, `…TUNNEL_TOKEN`. */
export function tunnelEnv (tunnel: Pick<Tunnel, 'url' | 'terminalUrl' | 'token'>): Record<string, string> {
  return {
    DEVPILOT_TUNNEL_URL: tunnel.url,
    ...(tunnel.terminalUrl !== undefined ? { DEVPILOT_TERMINAL_URL: tunnel.terminalUrl } : {}),
    ...(tunnel.token !== undefined ? { DEVPILOT_TUNNEL_TOKEN: tunnel.token } : {}),
  }
}
