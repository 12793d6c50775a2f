import { longTimeoutSignal, setLongTimeout, type LongTimer } from '../lib/long-timer.js'

/** Which limit ended a run early. */
export type StopKind = 'abort' | 'total' | 'idle'

/** Why a run was ended early: the abort reason of `RunLimits.signal`. */
export class RunStop extends Error {
  readonly kind: StopKind

  constructor (kind: StopKind, message: string) {
    super(message)
    this.kind = kind
  }
}

/** The limits of one run. */
export interface RunLimitOptions {
  /** Whole run, 0 = none; any size (2^31-1 ms and more included). */
  timeoutMs?: number | undefined
  /** Longest time without activity, 0 = none; any size. */
  idleTimeoutMs?: number | undefined
  /** The caller's cancel. */
  signal?: AbortSignal | undefined
  /** True while the idle clock must not run (a person is deciding a permission request). */
  paused?: () => boolean
}

/**
 * The run's limits as one signal (`AbortSignal.any` of the caller's cancel, the total timeout and
 * the idle timeout); `stop` says which fired first. `close()` stops the clocks.
 */
export class RunLimits {
  readonly signal: AbortSignal
  #total: LongTimer | null = null
  #idleTimer: LongTimer | null = null
  readonly #idleMs: number
  readonly #paused: () => boolean
  readonly #idle = new AbortController()
  #lastActivity = Date.now()
  #closed = false

  constructor (options: RunLimitOptions) {
    const { timeoutMs = 0, idleTimeoutMs = 0, signal } = options
    this.#idleMs = idleTimeoutMs
    this.#paused = options.paused ?? (() => false)
    const signals = [this.#idle.signal]
    if (signal) signals.push(signal)
    if (timeoutMs > 0) {
      const total = longTimeoutSignal(timeoutMs, () => new RunStop('total', `timed out after ${timeoutMs / 1000} s`))
      this.#total = total.timer
      signals.push(total.signal)
    }
    this.signal = AbortSignal.any(signals)
    if (idleTimeoutMs > 0) this.#armIdle(idleTimeoutMs)
  }

  /** Why the run is being ended, or null while no limit fired. */
  get stop (): RunStop | null {
    if (!this.signal.aborted) return null
    const reason: unknown = this.signal.reason
    return reason instanceof RunStop ? reason : new RunStop('abort', 'cancelled')
  }

  /** The agent did something: the idle clock starts again. */
  touch (): void {
    this.#lastActivity = Date.now()
  }

  /** Stops every clock; the signal keeps its state. Idempotent. */
  close (): void {
    this.#closed = true
    this.#total?.clear()
    this.#idleTimer?.clear()
  }

  #armIdle (delayMs: number): void {
    if (this.#closed || this.signal.aborted) return
    this.#idleTimer = setLongTimeout(() => {
      // Why: a person deciding a permission request is not the agent being idle.
      if (this.#paused()) this.#lastActivity = Date.now()
      const idleFor = Date.now() - this.#lastActivity
      if (idleFor >= this.#idleMs) {
        this.#idle.abort(new RunStop('idle', `no update from the agent for ${this.#idleMs / 1000} s`))
        return
      }
      this.#armIdle(Math.max(10, this.#idleMs - idleFor))
    }, delayMs)
  }
}
