import { setLongTimeout } from './long-timer.js'

/**
 * Waits `delayMs` (any length: see `setLongTimeout`) or until `signal` aborts, whichever comes first.
 * Resolves true when the whole delay passed, false when the signal cut it short. Never rejects.
 */
export async function sleepLong (delayMs: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted === true) return false
  return await new Promise<boolean>((resolve) => {
    const onAbort = (): void => {
      timer.clear()
      resolve(false)
    }
    const timer = setLongTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve(true)
    }, delayMs, { ref: true })
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
