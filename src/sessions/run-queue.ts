// The commands a session accepted and has not handed to its shell yet, in the order they came.
import type { Logger } from 'pino'
import type { QueuedRun } from './runs.js'

/** What a session's run queue is given by its session. */
export interface RunQueueHooks {
  /** True when a run may start now: none runs and the session goes on. */
  canStart: () => boolean
  /** Starts a run taken from the queue (or settles it when it cannot start). */
  start: (run: QueuedRun) => Promise<void>
  /** Nothing waits and nothing starts. */
  idle: () => void
  /** The session's logger (it names the session). */
  log: Logger
}

/** A session's waiting commands, in order, and the one taken from them whose start is under way. */
export class RunQueue {
  readonly #hooks: RunQueueHooks
  #waiting: QueuedRun[] = []
  // The run taken from the queue whose shell is being started, before it becomes the running command.
  #starting: QueuedRun | null = null

  constructor (hooks: RunQueueHooks) {
    this.#hooks = hooks
  }

  /** The run whose start is under way, or null. */
  get starting (): QueuedRun | null { return this.#starting }

  /** True while a run waits or is being started. */
  get pending (): boolean { return this.#starting !== null || this.#waiting.length > 0 }

  /** The job ids of the waiting runs, in order. */
  get waitingJobIds (): string[] { return this.#waiting.map((r) => r.request.jobId) }

  /** Adds a run at the end; how many runs wait before it. */
  add (run: QueuedRun): number {
    this.#waiting.push(run)
    return this.#waiting.length - 1
  }

  /** Job `jobId`'s place: 0 being started, n > 0 waiting behind n - 1 others; null when not here. */
  position (jobId: string): number | null {
    if (this.#starting?.request.jobId === jobId) return 0
    const index = this.#waiting.findIndex((r) => r.request.jobId === jobId)
    return index === -1 ? null : index + 1
  }

  /** Starts the next waiting run when none starts and `canStart()`; calls `idle` when none waits. */
  pump (): void {
    if (this.#starting || !this.#hooks.canStart()) return
    const next = this.#waiting.shift()
    if (!next) {
      // Why catch: pump runs from a finished run's callback, outside any request.
      try { this.#hooks.idle() } catch (err) { this.#hooks.log.error({ err }, 'session idle hook failed') }
      return
    }
    this.#starting = next
    this.#hooks.start(next)
      .catch((err: unknown) => { this.#hooks.log.error({ err }, 'session run failed to start') })
      .finally(() => {
        this.#starting = null
        this.pump()
      })
  }

  /** Takes waiting run `jobId` out of the queue; null when it does not wait. */
  remove (jobId: string): QueuedRun | null {
    const index = this.#waiting.findIndex((r) => r.request.jobId === jobId)
    return index === -1 ? null : this.#waiting.splice(index, 1)[0] as QueuedRun
  }

  /** Takes every waiting run out of the queue (the one being started stays until its start is over). */
  drain (): QueuedRun[] {
    return this.#waiting.splice(0)
  }

  /** Stops the timeout of every waiting run and of the one being started. */
  clearTimers (): void {
    for (const run of this.#waiting) run.timer?.clear()
    this.#starting?.timer?.clear()
  }
}
