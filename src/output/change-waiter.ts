import { watch, type FSWatcher } from 'node:fs'

/** Sleeps until something in a directory changes, or `pollMs` passes (the fallback), or `wake()`. */
export class ChangeWaiter {
  #watcher: FSWatcher | undefined
  #pending = false
  #wakeUp: (() => void) | undefined
  readonly #pollMs: number

  constructor (dir: string, pollMs: number) {
    this.#pollMs = pollMs
    try {
      this.#watcher = watch(dir, { persistent: false }, () => this.wake())
      this.#watcher.on('error', () => this.#closeWatcher())
    } catch {
      // Why: some file systems cannot be watched; polling alone still works.
      this.#watcher = undefined
    }
  }

  /** Resolves at the next change (at once if one happened since the last wait). */
  wait (): Promise<void> {
    if (this.#pending) {
      this.#pending = false
      return Promise.resolve()
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.#pollMs)
      const self = this
      function done (): void {
        clearTimeout(timer)
        self.#wakeUp = undefined
        self.#pending = false
        resolve()
      }
      this.#wakeUp = done
    })
  }

  /** Ends the current wait now, or makes the next one return at once. */
  wake (): void {
    if (this.#wakeUp) this.#wakeUp()
    else this.#pending = true
  }

  #closeWatcher (): void {
    this.#watcher?.close()
    this.#watcher = undefined
  }

  close (): void {
    this.#closeWatcher()
    this.wake()
  }
}
