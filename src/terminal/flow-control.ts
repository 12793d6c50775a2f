import type { WebSocket } from 'ws'

// Socket buffer above which the terminal's output is paused, and below which it resumes.
const HIGH_WATER_BYTES = 1024 * 1024
const LOW_WATER_BYTES = 256 * 1024
const POLL_MS = 5
// A socket that keeps the terminal paused this long is dropped (its client can reattach).
const STALLED_SOCKET_MS = 30_000

/** What flow control needs of a PTY. */
export interface Pausable {
  pause: () => void
  resume: () => void
}

/**
 * Back-pressure from WebSockets to a PTY: the PTY is paused (its program blocks on write, as in a
 * real terminal) while any socket holds more than 1 MiB unsent, and resumed once all are below
 * 256 KiB, so a slow client costs bounded memory.
 */
export class FlowControl {
  readonly #pty: Pausable
  readonly #sockets: () => Iterable<WebSocket>
  readonly #onStalled: (socket: WebSocket) => void
  readonly #aboveSince = new WeakMap<WebSocket, number>()
  #timer: NodeJS.Timeout | null = null

  constructor (pty: Pausable, sockets: () => Iterable<WebSocket>, onStalled: (socket: WebSocket) => void) {
    this.#pty = pty
    this.#sockets = sockets
    this.#onStalled = onStalled
  }

  /** Call after sending output: pauses the PTY when a socket passed the high-water mark. */
  check (): void {
    if (this.#timer) return
    for (const socket of this.#sockets()) {
      if (socket.bufferedAmount <= HIGH_WATER_BYTES) continue
      this.#pty.pause()
      this.#timer = setInterval(() => this.#poll(), POLL_MS)
      return
    }
  }

  /** Resumes the PTY for good (the terminal is ending). */
  release (): void {
    if (!this.#timer) return
    clearInterval(this.#timer)
    this.#timer = null
    this.#pty.resume()
  }

  #poll (): void {
    const now = Date.now()
    let blocked = false
    for (const socket of this.#sockets()) {
      if (socket.readyState !== socket.OPEN || socket.bufferedAmount <= LOW_WATER_BYTES) {
        this.#aboveSince.delete(socket)
        continue
      }
      const since = this.#aboveSince.get(socket) ?? now
      this.#aboveSince.set(socket, since)
      if (now - since > STALLED_SOCKET_MS) {
        this.#onStalled(socket)
        continue
      }
      blocked = true
    }
    if (!blocked) this.release()
  }
}
