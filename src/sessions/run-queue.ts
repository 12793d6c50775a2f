// The commands a session accepted and has not handed to its shell yet, in the order they came.
import type { QueuedRun } from './runs.js'

/** A session's waiting commands, in order, and the one taken from them whose start is under way. */
export class RunQueue {
  #waiting: QueuedRun[] = []
  // The run taken from the queue whose shell is being started, before it becomes the running command.
  #starting: QueuedRun | null = null

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

  /** Takes the next waiting run as the one being started; null when none waits. */
  takeNext (): QueuedRun | null {
    this.#starting = this.#waiting.shift() ?? null
    return this.#starting
  }

  /** The start of the taken run is over: it runs now, or it was settled. */
  startOver (): void {
    this.#starting = null
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

  /** Stops the timeout of every waiting run. */
  clearTimers (): void {
    for (const run of this.#waiting) run.timer?.clear()
  }
}
