import { setTimeout as sleep } from 'node:timers/promises'

// How often process checks (is the group gone yet?) are repeated.
const POLL_MS = 20

/** Polls `condition` every 20 ms until it holds (true) or `timeoutMs` passed (false). */
export async function waitUntil (condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() >= deadline) return false
    await sleep(POLL_MS)
  }
  return true
}
