import type { WebSocket } from 'ws'
import type { AuthFailures } from './failures.js'
import type { KeyStore } from './key-store.js'

export const FIRST_MESSAGE_AUTH_MS = 5000
// Frames a socket may send before its session is ready; a peer that sends more is disconnected.
const MAX_HELD_BYTES = 1024 * 1024
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
   * with 3401, counts a failed authentication of `address`, and resolves false. Frames after the
   * auth frame are dropped (for sockets that only send, like job streams).
   */
  async authenticate (socket: WebSocket, alreadyAuthenticated: boolean, address: string): Promise<boolean> {
    const frames = await this.authenticateHolding(socket, alreadyAuthenticated, address)
    frames?.release(() => {})
    return frames !== null
  }

  /**
   * Like `authenticate`, but every frame after the auth frame (or every frame, when already
   * authenticated) is held from this call on, in order, until `release` hands them to a reader.
   * Resolves null when the socket was refused. Nothing else is read from the socket before that.
   */
  authenticateHolding (socket: WebSocket, alreadyAuthenticated: boolean, address: string): Promise<HeldFrames | null> {
    // Why now: `ws` emits every frame of one read synchronously, so frames right behind the auth
    // frame arrive before the caller, resumed after an await, could attach its own listener.
    const frames = new HeldFrames(socket)
    if (alreadyAuthenticated) return Promise.resolve(frames)
    return new Promise((resolve) => {
      const fail = (): void => {
        clearTimeout(timer)
        frames.release(() => {})
        socket.close(CLOSE_UNAUTHORIZED, 'invalid or missing API key')
        resolve(null)
        // Why not awaited: the count only decides later attempts. The in-memory store cannot fail.
        this.failures.count(address).catch(() => {})
      }
      const timer = setTimeout(fail, FIRST_MESSAGE_AUTH_MS)
      frames.takeFirst((raw, isBinary) => {
        let message: { type?: unknown, key?: unknown } = {}
        try { message = isBinary ? {} : JSON.parse(raw.toString()) } catch { /* not JSON: refused below */ }
        if (message.type !== 'auth' || typeof message.key !== 'string' || !this.#keys.verify(message.key)) return fail()
        clearTimeout(timer)
        resolve(frames)
      })
      socket.once('close', () => {
        clearTimeout(timer)
        resolve(null)
      })
    })
  }
}

/** A socket's message handler: the frame and whether it was binary. */
export type FrameReader = (raw: Buffer, isBinary: boolean) => void

/**
 * The frames of one socket, kept in order until a reader is given. Holds at most
 * MAX_HELD_BYTES; a peer that sends more before its session is ready is disconnected.
 */
export class HeldFrames {
  readonly #socket: WebSocket
  #held: Array<[Buffer, boolean]> = []
  #heldBytes = 0
  #first: FrameReader | null = null
  #reader: FrameReader | null = null

  constructor (socket: WebSocket) {
    this.#socket = socket
    socket.on('message', (raw: Buffer, isBinary: boolean) => this.#receive(raw, isBinary))
  }

  /** Hands the next frame (only that one) to `reader` instead of holding it. */
  takeFirst (reader: FrameReader): void {
    this.#first = reader
  }

  /** Hands every held frame, then every later one, to `reader`. */
  release (reader: FrameReader): void {
    this.#reader = reader
    const held = this.#held
    this.#held = []
    this.#heldBytes = 0
    for (const [raw, isBinary] of held) reader(raw, isBinary)
  }

  #receive (raw: Buffer, isBinary: boolean): void {
    if (this.#first) {
      const first = this.#first
      this.#first = null
      return first(raw, isBinary)
    }
    if (this.#reader) return this.#reader(raw, isBinary)
    this.#heldBytes += raw.length
    if (this.#heldBytes > MAX_HELD_BYTES) {
      this.#held = []
      this.#socket.terminate()
      return
    }
    this.#held.push([raw, isBinary])
  }
}
