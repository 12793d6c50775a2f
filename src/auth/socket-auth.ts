import type { WebSocket } from 'ws'
import type { AuthFailures } from './failures.js'
import type { KeyStore } from './key-store.js'

export const FIRST_MESSAGE_AUTH_MS = 5000
// Why: devpilot's terminal closed unauthenticated sockets with 3401; keep one code for all sockets.
export const CLOSE_UNAUTHORIZED = 3401

/** Authenticates WebSockets that were not authenticated by header or ticket at the upgrade. */
export class SocketAuth {
  readonly #keys: KeyStore
  readonly failures: AuthFailures

  constructor (keys: KeyStore, failures: AuthFailures) {
    this.#keys = keys
    this.failures = failures
  }

  /** True when `key` (from a header) is the API key. */
  verify (key: string | undefined): boolean {
    return this.#keys.verify(key)
  }

  /**
   * Resolves true when the socket is allowed: already authenticated by header or ticket, or its
   * first message is `{"type":"auth","key":"…"}` with the right key within 5 s. Otherwise closes it
   * with 3401, counts a failed authentication of `address`, and resolves false. Nothing else is
   * read from the socket before that.
   */
  authenticate (socket: WebSocket, alreadyAuthenticated: boolean, address: string): Promise<boolean> {
    if (alreadyAuthenticated) return Promise.resolve(true)
    return new Promise((resolve) => {
      const fail = (): void => {
        clearTimeout(timer)
        socket.close(CLOSE_UNAUTHORIZED, 'invalid or missing API key')
        resolve(false)
        // Why not awaited: the count only decides later attempts. The in-memory store cannot fail.
        this.failures.count(address).catch(() => {})
      }
      const timer = setTimeout(fail, FIRST_MESSAGE_AUTH_MS)
      socket.once('message', (raw, isBinary) => {
        let message: { type?: unknown, key?: unknown } = {}
        try { message = isBinary ? {} : JSON.parse(raw.toString()) } catch { /* not JSON: refused below */ }
        if (message.type !== 'auth' || typeof message.key !== 'string' || !this.#keys.verify(message.key)) return fail()
        clearTimeout(timer)
        resolve(true)
      })
      socket.once('close', () => {
        clearTimeout(timer)
        resolve(false)
      })
    })
  }
}
