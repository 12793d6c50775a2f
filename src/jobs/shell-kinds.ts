import type { UpdateBlocker } from '../update/coordinator.js'
import type { JobKind, StartedProcess } from './kind.js'
import type { JobEnd } from './outcome.js'
import type { JobRunner } from './runner.js'
import type { TtyJobRunner } from './tty-runner.js'
import type { JobRecord } from './types.js'

/**
 * The kind of mode "shell": plain shell jobs (files as stdio, through the launcher, re-adopted
 * after a restart) and tty jobs (`tty: true`, on a PTY this server holds), each run by its own
 * runner and chosen by the job's spec.
 */
// Why a variant of shell and not a mode of its own: a tty job takes the same fields, has the same
// limits, signals, stdin and outcome, and shows as mode "shell" to callers that filter on it; only
// how its process is held differs, which is the runners' business.
export class ShellJobKinds implements JobKind {
  readonly #plain: JobRunner
  readonly #tty: TtyJobRunner

  constructor (plain: JobRunner, tty: TtyJobRunner) {
    this.#plain = plain
    this.#tty = tty
  }

  get size (): number {
    return this.#plain.size + this.#tty.size
  }

  has (id: string): boolean {
    return this.#plain.has(id) || this.#tty.has(id)
  }

  // Why only plain jobs: the prepared folder holds what the launcher's start uses (FIFO, placeholders).
  takeFolder (job: JobRecord, dir: string): boolean {
    return job.spec.tty === undefined && this.#plain.takeFolder(job, dir)
  }

  start (job: JobRecord): Promise<StartedProcess> {
    return this.#of(job).start(job)
  }

  adopt (job: JobRecord): JobEnd | null {
    return this.#of(job).adopt(job)
  }

  signal (id: string, signal: NodeJS.Signals): void {
    this.#holding(id).signal(id, signal)
  }

  writeStdin (id: string, data: string | Buffer, eof: boolean): number {
    return this.#holding(id).writeStdin(id, data, eof)
  }

  resize (id: string, cols: number, rows: number): void {
    this.#tty.resize(id, cols, rows)
  }

  updateBlocker (): UpdateBlocker {
    return this.#tty.updateBlocker()
  }

  // Why: while an update drains, only tty jobs wait; plain shell jobs survive a restart and go on starting.
  get selective (): boolean {
    return !this.#tty.accepting
  }

  ready (job: JobRecord): boolean {
    return job.spec.tty === undefined || this.#tty.accepting
  }

  detachAll (): void {
    this.#plain.detachAll()
    this.#tty.detachAll()
  }

  async stopAll (): Promise<void> {
    await Promise.all([this.#plain.stopAll(), this.#tty.stopAll()])
  }

  #of (job: JobRecord): JobRunner | TtyJobRunner {
    return job.spec.tty !== undefined ? this.#tty : this.#plain
  }

  #holding (id: string): JobRunner | TtyJobRunner {
    return this.#tty.has(id) ? this.#tty : this.#plain
  }
}
