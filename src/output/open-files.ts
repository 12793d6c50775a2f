import { closeSync, openSync } from 'node:fs'

const KEEP_OPEN_MS = 2000
const MAX_OPEN_FILES = 128

/**
 * Read-only descriptors of output files, kept open while they are being read again and again
 * (a polled `GET /jobs/:id`) and closed after `keepOpenMs` without use.
 */
// Why: a path stat plus open and close per stream was a third of the CPU of GET /jobs/:id; an fstat
// and a pread on a kept descriptor cost a fraction. The same inode, so the answer is the same.
export class OpenFiles {
  readonly #keepOpenMs: number
  readonly #open = new Map<string, { fd: number, usedAt: number }>()
  #sweeper: NodeJS.Timeout | undefined

  constructor (keepOpenMs = KEEP_OPEN_MS) {
    this.#keepOpenMs = keepOpenMs
  }

  /** A descriptor for reading `path`, or undefined when the file does not exist (yet). */
  fd (path: string): number | undefined {
    const now = Date.now()
    const kept = this.#open.get(path)
    if (kept) {
      kept.usedAt = now
      return kept.fd
    }
    let fd: number
    try {
      fd = openSync(path, 'r')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
    if (this.#open.size >= MAX_OPEN_FILES) this.#closeOne(this.#open.keys().next().value as string)
    this.#open.set(path, { fd, usedAt: now })
    this.#sweeper ??= setInterval(() => this.#sweep(), this.#keepOpenMs).unref()
    return fd
  }

  /** Closes every kept descriptor. */
  close (): void {
    for (const path of [...this.#open.keys()]) this.#closeOne(path)
  }

  #sweep (): void {
    const before = Date.now() - this.#keepOpenMs
    for (const [path, kept] of this.#open) {
      if (kept.usedAt < before) this.#closeOne(path)
    }
  }

  #closeOne (path: string): void {
    const kept = this.#open.get(path)
    if (!kept) return
    this.#open.delete(path)
    try { closeSync(kept.fd) } catch { /* already closed */ }
    if (this.#open.size === 0) {
      clearInterval(this.#sweeper)
      this.#sweeper = undefined
    }
  }
}
