/** How the wrapper spaces restarts after crashes. */
export interface BackoffOptions {
  /** Delay before the first restart after a crash. */
  initialMs: number
  /** The delay never grows beyond this. */
  maxMs: number
  /** A child that ran this long before crashing counts as healthy: the delays start over. */
  resetAfterMs: number
}

// The numbers: 1 s doubling to 60 s, reset after 10 minutes of healthy running.
export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({ initialMs: 1000, maxMs: 60_000, resetAfterMs: 600_000 })

/** The delay before restart number `attempt` (0-based) of a crash streak: initial doubling up to max. */
export function restartDelayMs (attempt: number, options: BackoffOptions): number {
  const initial = Math.max(0, options.initialMs)
  const max = Math.max(initial, options.maxMs)
  // Why: beyond 2^52 the product is no longer exact; the cap applies long before.
  const factor = 2 ** Math.min(Math.max(0, Math.floor(attempt)), 52)
  return Math.min(initial * factor, max)
}

/** Counts consecutive crashes and answers how long to wait before the next restart. */
export class RestartBackoff {
  readonly #options: BackoffOptions
  #attempt = 0

  constructor (options: BackoffOptions) {
    this.#options = options
  }

  /** The delay after a crash of a child that ran `ranMs`; a long healthy run starts the streak over. */
  next (ranMs: number): { delayMs: number, attempt: number } {
    if (ranMs >= this.#options.resetAfterMs) this.#attempt = 0
    const attempt = this.#attempt
    this.#attempt += 1
    return { delayMs: restartDelayMs(attempt, this.#options), attempt: attempt + 1 }
  }

  /** Forgets the streak (e.g. after a child proved healthy in another way). */
  reset (): void {
    this.#attempt = 0
  }
}
