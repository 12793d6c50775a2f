import { setTimeout as sleep } from 'node:timers/promises'

/** Work that a restart would lose (terminals, persistent shells, ACP jobs): it blocks an update. */
export interface UpdateBlocker {
  /** The devpilot 409 message, e.g. "cannot update while terminal sessions are active". */
  error: string
  /** The devpilot 409 count key, e.g. "terminal_sessions". */
  countKey: string
  /** More keys for the same count (a 409 that must also carry devpilot's `running_jobs`). */
  alsoCountKeys?: readonly string[]
  count: () => number
  /** Stop taking new work of this kind (during a drain), or take it again. */
  setAccepting: (accepting: boolean) => void
}

/** Why an update cannot go ahead: the 409 body. */
export type UpdateRefusal = { error: string } & Record<string, string | number>

const DRAIN_POLL_MS = 100

// Decides whether the server may restart for an update now, draining blocking work first if asked.
export class UpdateCoordinator {
  readonly #blockers: UpdateBlocker[] = []
  #draining = false

  /** True from the moment an update was accepted: new requests are answered 503. */
  get draining (): boolean {
    return this.#draining
  }

  /** Features whose work cannot survive a restart register here. */
  addBlocker (blocker: UpdateBlocker): void {
    this.#blockers.push(blocker)
  }

  /** The first blocker with work, as devpilot's 409 body, or null when a restart loses nothing. */
  refusal (): UpdateRefusal | null {
    for (const blocker of this.#blockers) {
      const count = blocker.count()
      if (count <= 0) continue
      const refusal: UpdateRefusal = { error: blocker.error, [blocker.countKey]: count }
      for (const key of blocker.alsoCountKeys ?? []) refusal[key] = count
      return refusal
    }
    return null
  }

  /**
   * Accepts the update (returns null) or says why not. With `drainSec`, blocking work is no longer
   * taken and may end within that time; if it does not, accepting resumes and the refusal is returned.
   */
  async begin (drainSec = 0): Promise<UpdateRefusal | null> {
    if (drainSec > 0 && this.refusal()) {
      for (const blocker of this.#blockers) blocker.setAccepting(false)
      const deadline = Date.now() + drainSec * 1000
      while (this.refusal() && Date.now() < deadline) await sleep(DRAIN_POLL_MS)
    }
    const refusal = this.refusal()
    if (refusal) {
      for (const blocker of this.#blockers) blocker.setAccepting(true)
      return refusal
    }
    this.#draining = true
    return null
  }
}
