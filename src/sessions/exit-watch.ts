import { watch, type FSWatcher } from 'node:fs'

// How often a running command's exit file and shell are checked besides the file watch.
const CHECK_MS = 200

/** Follows a running command's directory: a file watch plus a poll, both calling the same check. */
export class ExitWatch {
  #watcher: FSWatcher | null = null
  #poll: NodeJS.Timeout | null = null

  /**
   * Starts watching `dir` and polling. Why no first check here: the check may finish the run, which
   * closes this watch; the caller stores the watch first and then checks once itself.
   */
  constructor (dir: string, check: () => void) {
    try {
      this.#watcher = watch(dir, check)
      this.#watcher.on('error', () => { /* Why: the directory may be removed by retention; the poll goes on. */ })
    } catch { /* the poll below still sees the exit */ }
    this.#poll = setInterval(check, CHECK_MS)
    this.#poll.unref()
  }

  /** Stops the watch and the poll; idempotent. */
  close (): void {
    this.#watcher?.close()
    if (this.#poll) clearInterval(this.#poll)
    this.#watcher = null
    this.#poll = null
  }
}
