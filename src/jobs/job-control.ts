import { Errors } from '../errors.js'
import type { JobKind } from './kind.js'
import type { JobEnd } from './outcome.js'
import type { JobScheduler } from './scheduler.js'
import type { JobStore } from './store.js'
import type { JobMode, JobRecord } from './types.js'
import { errorMessage } from '../lib/error-message.js'

/** The answer of POST /jobs/:id/nudge, in devpilot's shape. */
export type NudgeResult = { nudged: true, processAlive: true } | { nudged: false, reason: string, processAlive: boolean }

/** What job control needs from the manager that owns it. */
export interface JobControlDeps {
  kinds: Record<JobMode, JobKind>
  scheduler: JobScheduler
  store: JobStore
  /** The job, or JOB_NOT_FOUND. */
  require: (id: string) => JobRecord
  /** Records the job's end. */
  end: (id: string, end: JobEnd) => void
}

/** What can be done to one accepted job: signal or cancel it, feed its stdin, resize its terminal, nudge it, answer its agent. */
export class JobControl {
  readonly #deps: JobControlDeps

  constructor (deps: JobControlDeps) {
    this.#deps = deps
  }

  /**
   * Signals the job: SIGTERM then SIGKILL after the grace (the default), or one given signal. A
   * pending job is cancelled without starting; a starting one gets the signal once it runs.
   * Ending signals make the job end `cancelled`; others leave its outcome alone.
   */
  kill (id: string, signal: NodeJS.Signals = 'SIGTERM'): { job: JobRecord, signalled: string | null } {
    const job = this.#deps.require(id)
    if (this.#deps.scheduler.queue.remove(id)) {
      this.#deps.end(id, { type: 'not-started', why: 'cancelled' })
      return { job: this.#deps.require(id), signalled: null }
    }
    if (this.#deps.scheduler.signalWhenStarted(id, signal)) return { job, signalled: signal }
    const kind = this.#deps.kinds[job.mode]
    if (!kind.has(id)) throw new Errors.JOB_NOT_RUNNING(job.status)
    kind.signal(id, signal)
    return { job, signalled: signal }
  }

  /** Queues bytes for the job's stdin (never waiting for the job to read them) and optionally closes it. */
  async writeStdin (id: string, data: string | Buffer, eof: boolean): Promise<number> {
    const job = this.#deps.require(id)
    const kind = this.#deps.kinds[job.mode]
    if (!kind.writeStdin) throw new Errors.STDIN_CLOSED()
    // Why: the launcher starts a job asynchronously; input sent meanwhile waits for the start.
    await this.#deps.scheduler.starting(id)
    if (!kind.has(id)) throw new Errors.JOB_NOT_RUNNING(this.#deps.store.get(id)?.status ?? job.status)
    return kind.writeStdin(id, data, eof)
  }

  /** Changes the window size of a running tty job's terminal (the program gets SIGWINCH). */
  async resize (id: string, cols: number, rows: number): Promise<void> {
    const job = this.#deps.require(id)
    const kind = this.#deps.kinds[job.mode]
    if (job.spec.tty === undefined || !kind.resize) throw new Errors.NOT_A_TTY_JOB()
    await this.#deps.scheduler.starting(id)
    if (!kind.has(id)) throw new Errors.JOB_NOT_RUNNING(this.#deps.store.get(id)?.status ?? job.status)
    kind.resize(id, cols, rows)
  }

  /** Writes a newline to stdin (devpilot's nudge) and reports what happened. */
  async nudge (id: string): Promise<NudgeResult> {
    const job = this.#deps.require(id)
    const kind = this.#deps.kinds[job.mode]
    if (kind.nudge) return kind.nudge(id)
    await this.#deps.scheduler.starting(id)
    if (!kind.writeStdin || !kind.has(id)) return { nudged: false, reason: 'process not running', processAlive: false }
    try {
      await this.writeStdin(id, '\n', false)
      return { nudged: true, processAlive: true }
    } catch (err) {
      return { nudged: false, reason: errorMessage(err), processAlive: true }
    }
  }

  /** Answers a permission request of a running ACP job (policy `ask`). */
  answerPermission (id: string, requestId: string, optionId: string): void {
    const kind = this.#deps.kinds[this.#deps.require(id).mode]
    if (!kind.answerPermission) throw new Errors.NOT_AN_ACP_JOB()
    kind.answerPermission(id, requestId, optionId)
  }
}
