import type { WebSocket } from 'ws'
import type { KeyStore } from './key-store.js'

export const FIRST_MESSAGE_AUTH_MS = 5000
// Why: devpilot's terminal closed unauthenticated sockets with 3401; keep one code for all sockets.
export const CLOSE_UNAUTHORIZED = 3401

/**
 * Resolves true when the socket is allowed: already authenticated by header or ticket, or its
 * first message is `{"type":"auth","key":"…"}` with the right key within 5 s. Otherwise closes it
 * with 3401 and resolves false. Nothing else is read from the socket before that.
 */
export function authenticateSocket (socket: WebSocket, alreadyAuthenticated: boolean, keys: KeyStore): Promise<boolean> {
  if (alreadyAuthenticated) return Promise.resolve(true)
  return new Promise((resolve) => {
    const fail = (): void => {
      clearTimeout(timer)
      socket.close(CLOSE_UNAUTHORIZED, 'invalid or missing API key')
      resolve(false)
    }
    const timer = setTimeout(fail, FIRST_MESSAGE_AUTH_MS)
    socket.once('message', (raw, isBinary) => {
      let message: { type?: unknown, key?: unknown } = {}
      try { message = isBinary ? {} : JSON.parse(raw.toString()) } catch { /* not JSON: refused below */ }
      if (message.type !== 'auth' || typeof message.key !== 'string' || !keys.verify(message.key)) return fail()
      clearTimeout(timer)
      resolve(true)
    })
    socket.once('close', () => {
      clearTimeout(timer)
      resolve(false)
    })
  })
}
