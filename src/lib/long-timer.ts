// Why: Node's setTimeout fires after 1 ms for any delay above 2^31-1 ms (about 24.8 days), so a
// one-year job timeout ended at once. Long delays are chained in steps below that limit.
export const MAX_TIMER_STEP_MS = 2 ** 31 - 1

/** A timer that can be cleared, started by `setLongTimeout`. */
export interface LongTimer {
  /** Stops the timer; calling it again or after it fired does nothing. */
  clear: () => void
}

export interface LongTimeoutOptions {
  /** Whether the timer keeps the process alive (default: false, like `.unref()`). */
  ref?: boolean
}

/**
 * Calls `callback` once after `delayMs`, for any delay up to Infinity (Infinity never fires).
 * Negative, zero and NaN delays fire on the next turn. Errors thrown by `callback` are not caught
 * here: callers pass a callback that catches and logs its own.
 */
export function setLongTimeout (callback: () => void, delayMs: number, options: LongTimeoutOptions = {}): LongTimer {
  let handle: NodeJS.Timeout | undefined
  let cleared = false
  const deadline = Date.now() + (Number.isNaN(delayMs) ? 0 : Math.max(0, delayMs))
  const arm = (): void => {
    if (cleared) return
    if (deadline === Infinity) return
    const remainingMs = deadline - Date.now()
    if (remainingMs > MAX_TIMER_STEP_MS) {
      handle = setTimeout(arm, MAX_TIMER_STEP_MS)
    } else {
      handle = setTimeout(() => {
        if (cleared) return
        cleared = true
        callback()
      }, Math.max(0, remainingMs))
    }
    if (options.ref !== true) handle.unref()
  }
  arm()
  return {
    clear () {
      cleared = true
      if (handle !== undefined) clearTimeout(handle)
    }
  }
}

/**
 * An AbortSignal that aborts with `reason` after `delayMs`, for any delay.
 * Why not AbortSignal.timeout: it has setTimeout's overflow and aborts at once above 2^31-1 ms.
 */
export function longTimeoutSignal (delayMs: number, reason: () => unknown): { signal: AbortSignal, timer: LongTimer } {
  const controller = new AbortController()
  const timer = setLongTimeout(() => controller.abort(reason()), delayMs)
  return { signal: controller.signal, timer }
}
