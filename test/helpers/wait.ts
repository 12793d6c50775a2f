import { setTimeout as sleep } from 'node:timers/promises'

/** Polls `condition` until it returns a truthy value, or fails after `timeoutMs`. */
export async function waitFor<T> (condition: () => T | Promise<T>, message: string, timeoutMs = 10_000, intervalMs = 20): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await condition()
    if (value) return value as NonNullable<T>
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}`)
    await sleep(intervalMs)
  }
}
