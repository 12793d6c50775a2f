import { Errors } from '../errors.js'
import { PtyJobProcess } from '../exec/pty-process.js'
import { isSameProcess, sessionMembers, signalSession } from '../exec/process-group.js'
import { childEnv, withoutSecrets } from '../lib/child-env.js'
import type { LongTimer } from '../lib/long-timer.js'
import type { UpdateBlocker } from '../update/coordinator.js'
import { RunningJobs, type JobKind, type JobKindHost, type StartedProcess } from './kind.js'
import { armJobLimits } from './limits.js'
import { STDIN_BUFFER_LIMIT_BYTES } from './runner.js'
import type { JobEnd, KillReason } from './outcome.js'
import { signalJob, terminateJob } from './process-signals.js'
import type { JobRecord } from './types.js'

// What a terminal sends for end-of-input (VEOF): `eof` on a tty job types it.
const EOF_CHARACTER = '\u0004'
// The terminal type of a tty job unless its `env` names another: what xterm.js, tmux and most terminals handle.
const DEFAULT_TERM = 'xterm-256color'

interface RunningTtyJob {
  process: PtyJobProcess
  killReason: KillReason | null
  stdinOpen: boolean
  timers: LongTimer[]
  done: Promise<void>
}

/**
 * Shell jobs with `tty: true`: the command runs on a PTY held by this server (exec/pty-process.ts).
 * Limits, signals, stdin and outcomes are those of shell jobs; what differs is that the job
 * cannot outlive the server (the PTY's master side is here), so it blocks self-updates like ACP
 * jobs do, and a restart finds it lost.
 */
export class TtyJobRunner implements JobKind {
  readonly #host: JobKindHost
  readonly #running = new RunningJobs<RunningTtyJob>()
  readonly #baseEnv = childEnv()
  #accepting = true

  constructor (host: JobKindHost) {
    this.#host = host
  }

  get size (): number {
    return this.#running.size
  }

  get accepting (): boolean {
    return this.#accepting
  }

  has (id: string): boolean {
    return this.#running.has(id)
  }

  /** Tty jobs hold a PTY this server owns: a restart would cut them off, so they block POST /update. */
  updateBlocker (): UpdateBlocker {
    return {
      error: 'cannot update while tty jobs are running',
      countKey: 'tty_jobs',
      alsoCountKeys: ['running_jobs'],
      count: () => this.#running.size,
      setAccepting: (accepting) => { this.#accepting = accepting },
    }
  }

  /** Starts the job on a new PTY (throws when it cannot be spawned) and follows it. */
  async start (job: JobRecord): Promise<StartedProcess> {
    const { id, spec } = job
    const size = spec.tty ?? { cols: 80, rows: 24 }
    const process = new PtyJobProcess({
      files: this.#host.files(id),
      command: spec.command,
      shell: spec.shell,
      cwd: spec.workdir,
      env: { ...this.#baseEnv, ...withoutSecrets(spec.env) },
      cols: size.cols,
      rows: size.rows,
      term: spec.env.TERM ?? DEFAULT_TERM,
    }, (err) => this.#host.log.warn({ err, jobId: id }, 'tty job output failed'))
    if (spec.stdin !== null && spec.stdin !== '') process.write(spec.stdin)
    if (spec.stdinEof) process.write(EOF_CHARACTER)
    const timers = armJobLimits(job, this.#host.files(id), (reason) => this.#terminate(id, reason), this.#host.log)
    const done = process.exited
      .then((end) => {
        const running = this.#running.get(id)
        for (const timer of running?.timers ?? []) timer.clear()
        this.#running.delete(id)
        this.#host.ended(id, { type: 'process', end, reason: running?.killReason ?? null })
      })
      .catch((err: unknown) => this.#host.log.error({ err, jobId: id }, 'tty job finish failed'))
    this.#running.set(id, { process, killReason: null, stdinOpen: !spec.stdinEof, timers, done })
    return { pid: process.pid, startTime: process.startTime }
  }

  /** A tty job an earlier server left running lost its terminal with that server: what is left of it is killed. */
  adopt (job: JobRecord): JobEnd {
    if (job.pid !== null && isSameProcess(job.pid, job.pidStartTime) && sessionMembers(job.pid).length > 0) {
      const killed = signalSession(job.pid, 'SIGKILL')
      this.#host.log.info({ jobId: job.id, killed }, 'killed what was left of a tty job of an earlier server')
    }
    return { type: 'lost', mode: 'tty' }
  }

  #terminate (id: string, reason: KillReason): void {
    terminateJob(this.#running.get(id), reason, this.#host.killGraceMs, this.#host.log, id)
  }

  /** As for shell jobs: SIGTERM is the whole kill sequence; an ending signal makes the job end `cancelled`. */
  signal (id: string, signal: NodeJS.Signals): void {
    signalJob(this.#running.get(id), signal, this.#host.killGraceMs, this.#host.log, id)
  }

  /** Types bytes into the job's terminal; `eof` types the end-of-input character (Ctrl-D) and refuses later input. */
  writeStdin (id: string, data: string | Buffer, eof: boolean): number {
    const running = this.#running.get(id)
    if (!running || !running.stdinOpen) throw new Errors.STDIN_CLOSED()
    const pending = running.process.pendingInputBytes()
    if (pending > STDIN_BUFFER_LIMIT_BYTES) throw new Errors.STDIN_BUSY(pending)
    const bytes = Buffer.byteLength(data)
    if (bytes > 0) running.process.write(data)
    if (eof) {
      running.stdinOpen = false
      running.process.write(EOF_CHARACTER)
    }
    return bytes
  }

  /** Changes the window size of a running tty job's terminal. */
  resize (id: string, cols: number, rows: number): void {
    this.#running.get(id)?.process.resize(cols, rows)
  }

  /** Nothing can be left running: a tty job cannot outlive this server, so `stopAll` ends it (updates wait for tty jobs first). */
  detachAll (): void {}

  /** Ends every running tty job (reason `shutdown`) and resolves when all have been reported. */
  async stopAll (): Promise<void> {
    for (const id of this.#running.ids()) this.#terminate(id, 'shutdown')
    await Promise.all(this.#running.values().map((r) => r.done))
  }
}
