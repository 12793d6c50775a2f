import type { Writable } from 'node:stream'

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']
const FRAME_MS = 100
const QUIET_MS = 400

// A one-line spinner with elapsed time, drawn on a terminal while a job is pending or silent.
export class Spinner {
  readonly #out: Writable
  readonly #startedAt = Date.now()
  #lastActivity = 0
  #label = 'pending'
  #frame = 0
  #shown = false
  readonly #timer: NodeJS.Timeout

  constructor (out: Writable) {
    this.#out = out
    this.#timer = setInterval(() => this.#draw(), FRAME_MS)
    this.#timer.unref()
  }

  /** What the spinner says it is waiting for (e.g. "pending", "running"). */
  setLabel (label: string): void {
    this.#label = label
  }

  /** Clears the spinner before output is written and keeps it hidden while output flows. */
  activity (): void {
    this.#lastActivity = Date.now()
    this.#clear()
  }

  stop (): void {
    clearInterval(this.#timer)
    this.#clear()
  }

  #draw (): void {
    if (Date.now() - this.#lastActivity < QUIET_MS) return
    const seconds = ((Date.now() - this.#startedAt) / 1000).toFixed(1)
    this.#out.write(`\r\x1b[2K${FRAMES[this.#frame++ % FRAMES.length]} ${this.#label} ${seconds}s`)
    this.#shown = true
  }

  #clear (): void {
    if (!this.#shown) return
    this.#out.write('\r\x1b[2K')
    this.#shown = false
  }
}
