import { EventEmitter } from 'node:events'
import { setLongTimeout } from '../lib/long-timer.js'

// Tells waiters (long-polls, streams) that a job has finished; all waits can be released at once.
export class FinishNotices {
  readonly #emitter = new EventEmitter().setMaxListeners(0)
  readonly #released = new AbortController()

  /** The job has finished: wake everything waiting for it. */
  notify (id: string): void {
    this.#emitter.emit(id)
  }

  /** Calls `listener` once when the job finishes; returns the way to stop listening. */
  onFinished (id: string, listener: () => void): () => void {
    this.#emitter.once(id, listener)
    return () => this.#emitter.off(id, listener)
  }

  /** Resolves when the job finishes, after `timeoutMs`, when `signal` aborts, or on `releaseAll()`. */
  async wait (id: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const signals = [this.#released.signal, ...(signal ? [signal] : [])]
    await new Promise<void>((resolve) => {
      const done = (): void => {
        timer.clear()
        stopListening()
        for (const s of signals) s.removeEventListener('abort', done)
        resolve()
      }
      const timer = setLongTimeout(done, timeoutMs, { ref: true })
      const stopListening = this.onFinished(id, done)
      for (const s of signals) s.addEventListener('abort', done)
      if (signals.some((s) => s.aborted)) done()
    })
  }

  /** Ends every wait now and every later one at once (the server is stopping). */
  releaseAll (): void {
    this.#released.abort()
  }
}
