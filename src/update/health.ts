import { get as httpGet } from 'node:http'
import { get as httpsGet } from 'node:https'
import { setTimeout as sleep } from 'node:timers/promises'

// Between two health probes, and the longest a single probe may take.
const HEALTH_POLL_MS = 200
const HEALTH_PROBE_TIMEOUT_MS = 5000

/** One GET of `url`: true when it answers 200 within `timeoutMs`. Never rejects. */
export async function probeHealth (url: string, timeoutMs: number): Promise<boolean> {
  return await new Promise<boolean>((resolve) => {
    try {
      const get = url.startsWith('https:') ? httpsGet : httpGet
      // Why: the wrapper checks its own child, usually on loopback with a self-signed certificate;
      // nothing secret is sent, and refusing the certificate would roll back every TLS server.
      const request = get(url, { rejectUnauthorized: false, timeout: timeoutMs }, (response) => {
        response.resume()
        resolve(response.statusCode === 200)
      })
      request.on('timeout', () => request.destroy())
      request.on('error', () => resolve(false))
    } catch {
      resolve(false)
    }
  })
}

/** Polls `url` until it answers 200 (true), or `deadlineMs` passes or `signal` aborts (false). */
export async function waitForHealthy (url: string, deadlineMs: number, signal: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + deadlineMs
  while (!signal.aborted) {
    const remaining = deadline - Date.now()
    if (remaining <= 0) return false
    if (await probeHealth(url, Math.min(remaining, HEALTH_PROBE_TIMEOUT_MS))) return !signal.aborted
    try {
      await sleep(Math.min(HEALTH_POLL_MS, Math.max(0, deadline - Date.now())), undefined, { signal })
    } catch {
      return false
    }
  }
  return false
}
