import { setTimeout as sleep } from 'node:timers/promises'

// Why: a deadline here only bounds a failing test; a passing one returns as soon as its condition
// holds. CI machines run two test files at once on two shared cores, where a Node start or a
// process hop can take seconds, so each deadline is stretched (never past the test timeout).
const STRETCH = 3
const LONGEST_MS = 150_000

/** Polls `condition` until it returns a truthy value, or fails after about `timeoutMs` (stretched for slow machines). */
export async function waitFor<T> (condition: () => T | Promise<T>, message: string, timeoutMs = 10_000, intervalMs = 20): Promise<NonNullable<T>> {
  const limitMs = Math.max(timeoutMs, Math.min(timeoutMs * STRETCH, LONGEST_MS))
  const deadline = Date.now() + limitMs
  for (;;) {
    const value = await condition()
    if (value) return value as NonNullable<T>
    if (Date.now() > deadline) throw new Error(`timed out after ${limitMs} ms waiting for ${message}`)
    await sleep(intervalMs)
  }
}
