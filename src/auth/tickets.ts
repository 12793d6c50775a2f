import { randomBytes } from 'node:crypto'

export const TICKET_TTL_MS = 30_000
const MAX_OUTSTANDING_TICKETS = 10_000

// Single-use, short-lived tickets that let a browser open a WebSocket without putting the key in a URL.
export class TicketStore {
  readonly #expiries = new Map<string, number>()

  /** A new ticket, valid once within TICKET_TTL_MS. */
  issue (now = Date.now()): { ticket: string, expiresInSeconds: number } {
    this.#sweep(now)
    if (this.#expiries.size >= MAX_OUTSTANDING_TICKETS) {
      const oldest = this.#expiries.keys().next().value
      if (oldest !== undefined) this.#expiries.delete(oldest)
    }
    const ticket = randomBytes(24).toString('base64url')
    this.#expiries.set(ticket, now + TICKET_TTL_MS)
    return { ticket, expiresInSeconds: TICKET_TTL_MS / 1000 }
  }

  /** True (once) for a ticket that was issued and has not expired; it cannot be used again. */
  consume (ticket: string | undefined, now = Date.now()): boolean {
    if (!ticket) return false
    const expiry = this.#expiries.get(ticket)
    if (expiry === undefined) return false
    this.#expiries.delete(ticket)
    return expiry > now
  }

  #sweep (now: number): void {
    for (const [ticket, expiry] of this.#expiries) {
      if (expiry > now) break
      this.#expiries.delete(ticket)
    }
  }
}
