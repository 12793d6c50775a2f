import type { Logger } from '../logger.js'
import { startHost } from './host-process.js'
import type { Tunnel, TunnelFailure } from './tunnel.js'
import { findCloudflaredUrl } from './tunnel-url.js'

const DEFAULT_URL_DEADLINE_MS = 30_000

/** What a Cloudflare quick tunnel needs. */
export interface CloudflaredOptions {
  port: number
  log: Logger
  /** The program (default `cloudflared` on PATH). */
  command?: string | undefined
  urlDeadlineMs?: number
}

/**
 * A Cloudflare quick tunnel: `cloudflared tunnel --url http://127.0.0.1:PORT`, whose output gives the
 * `*.trycloudflare.com` URL. It has no id, no token and no terminal port.
 */
export async function openCloudflared (options: CloudflaredOptions): Promise<Tunnel | TunnelFailure> {
  const command = options.command ?? 'cloudflared'
  const host = startHost({
    command,
    args: ['tunnel', '--url', `http://127.0.0.1:${options.port}`],
    findUrl: findCloudflaredUrl,
    urlDeadlineMs: options.urlDeadlineMs ?? DEFAULT_URL_DEADLINE_MS,
    log: options.log,
  })
  const start = await host.started
  if (!start.ok) {
    host.close()
    if (start.reason.endsWith('is not installed')) {
      return { failed: 'cloudflared is not installed; see https://developers.cloudflare.com/cloudflare-one/connections/connect-networks/downloads/ (the server runs without a tunnel)' }
    }
    return { failed: `cloudflared gave no tunnel URL (${start.reason}) (the server runs without a tunnel)` }
  }
  return {
    provider: 'cloudflared',
    id: null,
    url: start.url,
    terminalUrl: undefined,
    token: undefined,
    get alive () { return host.alive },
    refreshToken: async () => undefined,
    close: host.close,
  }
}
