import type { Writable } from 'node:stream'

/**
 * Writes messages to the launcher's input: a start request at once, with whatever waited before
 * it; a message no job waits for (stdin taken, a folder to prepare) with the next start request
 * or at the end of this turn of the loop.
 */
// Why: a write to the launcher's pipe costs the event loop more than the bytes in it; folder requests
// then add no write of their own (a job is two: its start request, and the stdin-taken message).
export class LauncherOutbox {
  readonly #input: () => Writable | null | undefined
  #queued: Buffer[] = []
  #flushScheduled = false

  /** `input`: the launcher's stdin now (none while it is being restarted). */
  constructor (input: () => Writable | null | undefined) {
    this.#input = input
  }

  now (message: Buffer): void {
    const queued = this.#take()
    this.#input()?.write(queued.length === 0 ? message : Buffer.concat([...queued, message]))
  }

  later (message: Buffer): void {
    this.#queued.push(message)
    if (this.#flushScheduled) return
    this.#flushScheduled = true
    setImmediate(() => {
      this.#flushScheduled = false
      const queued = this.#take()
      if (queued.length > 0) this.#input()?.write(Buffer.concat(queued))
    })
  }

  /** Drops what waits (the launcher it was meant for died). */
  clear (): void {
    this.#queued = []
  }

  #take (): Buffer[] {
    const queued = this.#queued
    this.#queued = []
    return queued
  }
}
