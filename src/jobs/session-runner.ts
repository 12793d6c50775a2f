import { Errors } from '../errors.js'
import type { LongTimer } from '../lib/long-timer.js'
import { lastWriteAt } from '../output/read.js'
import type { SessionPool } from '../sessions/pool.js'
import type { ReAdoptEntry, SessionOutcome, SessionRunCallbacks } from '../sessions/types.js'
import { RunningJobs, type JobKind, type JobKindHost, type StartedProcess } from './kind.js'
import { ENDING_SIGNALS, type JobEnd, type KillReason } from './outcome.js'
import type { JobRecord, SessionJobSpec } from './types.js'

const now = (): number => Date.now() / 1000

interface RunningCommand {
  sessionKey: string
  killReason: KillReason | null
  idleCheck: LongTimer | null
  /** Resolves once the end has been reported. */
  done: Promise<void>
}

// Persistent-shell jobs (mode "persistent_shell"): each job is one command of a named session in
// the SessionPool. One command of a session runs at a time: the manager keeps the others pending
// (`ready`), so a queued command is a pending job with its queue position.
export class SessionJobRunner implements JobKind {
  readonly #host: JobKindHost
  readonly #pool: SessionPool
  readonly #running = new RunningJobs<RunningCommand>()
  /** Session key → the job running in it (started here or re-adopted). */
  readonly #busy = new Map<string, string>()
  readonly #adoptions: ReAdoptEntry[] = []
  #detached = false

  constructor (host: JobKindHost, pool: SessionPool) {
    this.#host = host
    this.#pool = pool
  }

  get size (): number { return this.#running.size }

  has (id: string): boolean { return this.#running.has(id) }

  /** True while some session runs a command (then `ready` may refuse a job). */
  get selective (): boolean { return this.#busy.size > 0 }

  /** False while another command of the job's session runs: the job stays pending in the manager's queue. */
  ready (job: JobRecord): boolean {
    return job.spec.session === undefined || !this.#busy.has(job.spec.session.sessionKey)
  }

  /** Hands the command to its session; resolves once the shell has it (throws for the session limit or a shell mismatch). */
  start (job: JobRecord): Promise<StartedProcess> {
    const session = sessionSpec(job)
    return new Promise((resolve, reject) => {
      // Why: the pool may report the end before the start (a shell that could not start).
      const callbacks = this.#track(job, session.sessionKey, resolve, () => resolve({ pid: null, startTime: null }))
      try {
        this.#pool.run({
          jobId: job.id,
          sessionKey: session.sessionKey,
          shell: session.shell,
          shellPath: session.shellPath,
          command: job.spec.command,
          bootstrapCommand: session.bootstrapCommand,
          bootstrapCurrentCommand: session.bootstrapCurrentCommand,
          workdir: job.spec.workdir,
          env: job.spec.env,
          files: this.#host.files(job.id),
          timeoutMs: remainingMs(job),
        }, callbacks)
      } catch (err) {
        this.#untrack(job.id, session.sessionKey)
        reject(err)
      }
    })
  }

  /** Collects a running session job; its fate is decided when `adopted()` hands them all to the pool. */
  adopt (job: JobRecord): JobEnd | null {
    const session = job.spec.session
    if (session === undefined) return { type: 'lost', mode: 'persistent_shell' }
    this.#adoptions.push({
      jobId: job.id,
      sessionKey: session.sessionKey,
      files: this.#host.files(job.id),
      callbacks: this.#track(job, session.sessionKey, () => {}, () => {}),
      timeoutMs: remainingMs(job),
    })
    return null
  }

  /** After every running job was adopted: re-adopts the sessions on disk and the commands they run. */
  adopted (): void {
    const entries = this.#adoptions.splice(0)
    const { sessions, adoptedJobs } = this.#pool.reAdopt(entries)
    if (sessions > 0 || entries.length > 0) this.#host.log.info({ sessions, adoptedJobs }, 'persistent shell sessions re-adopted')
  }

  /** SIGTERM: the session's kill sequence (SIGINT, SIGTERM, SIGKILL), keeping the shell; another ending signal is sent as is. */
  signal (id: string, signal: NodeJS.Signals): void {
    const running = this.#running.get(id)
    if (!running) return
    if (signal === 'SIGTERM') return this.#terminate(id, 'cancel')
    if (ENDING_SIGNALS.has(signal)) running.killReason ??= 'cancel'
    this.#pool.signal(id, signal)
  }

  /** Writes to the running command's stdin (the session's stdin FIFO); it never reaches end-of-file. */
  writeStdin (id: string, data: string | Buffer, eof: boolean): number {
    if (eof) throw new Errors.INVALID_REQUEST('eof is not supported for persistent shell commands: their stdin stays open')
    const result = this.#pool.writeStdin(id, data)
    if (result.written) return result.bytes
    if (result.bytes > 0 || result.reason.includes('not reading')) throw new Errors.STDIN_BUSY(Buffer.byteLength(data) - result.bytes)
    throw new Errors.STDIN_CLOSED()
  }

  /** devpilot's session nudge: a newline to the session's stdin while this command runs. */
  nudge (id: string): ReturnType<NonNullable<JobKind['nudge']>> {
    const result = this.#pool.nudge(id)
    if (result.nudged && result.processAlive) return { nudged: true, processAlive: true }
    return { nudged: false, reason: result.reason ?? 'persistent session not running', processAlive: result.processAlive }
  }

  /** Leaves shells and running commands to the next server (self-update, or a stop). */
  detachAll (): void {
    this.#detached = true
    for (const running of this.#running.values()) running.idleCheck?.clear()
    this.#pool.detach()
  }

  /** Kills the running commands (reason `shutdown`), keeping their sessions for the next server. */
  async stopAll (): Promise<void> {
    if (this.#detached) return
    for (const id of this.#running.ids()) this.#terminate(id, 'shutdown')
    await Promise.all(this.#running.values().map((r) => r.done))
    this.#detached = true
    this.#pool.detach()
  }

  #terminate (id: string, reason: KillReason): void {
    const running = this.#running.get(id)
    if (!running) return
    running.killReason ??= reason
    this.#pool.terminate(id).catch((err: unknown) => this.#host.log.error({ err, jobId: id }, 'kill failed'))
  }

  // Registers the job as running in its session and returns the pool's callbacks for it.
  #track (job: JobRecord, sessionKey: string, onStarted: (p: StartedProcess) => void, onFinished: () => void): SessionRunCallbacks {
    const id = job.id
    let finish: () => void = () => {}
    const done = new Promise<void>((resolve) => { finish = resolve })
    this.#running.set(id, { sessionKey, killReason: null, idleCheck: this.#idleCheck(job), done })
    this.#busy.set(sessionKey, id)
    return {
      started: ({ pid, startTime }) => { onStarted({ pid, startTime }) },
      finished: (outcome: SessionOutcome) => {
        try {
          const reason = this.#running.get(id)?.killReason ?? null
          this.#untrack(id, sessionKey)
          onFinished()
          if (!this.#detached) this.#host.ended(id, { type: 'session', outcome, reason })
        } catch (err) {
          this.#host.log.error({ err, jobId: id }, 'recording the end of a session command failed')
        } finally {
          finish()
        }
      },
    }
  }

  #untrack (id: string, sessionKey: string): void {
    this.#running.get(id)?.idleCheck?.clear()
    this.#running.delete(id)
    if (this.#busy.get(sessionKey) === id) this.#busy.delete(sessionKey)
  }

  // The job's idle timeout: no output for idleTimeoutSec ends the command (the session lives on).
  #idleCheck (job: JobRecord): LongTimer | null {
    const { id, spec } = job
    if (spec.idleTimeoutSec <= 0) return null
    const files = this.#host.files(id)
    const startedAt = job.startedAt ?? now()
    const checkMs = Math.min(1000, Math.max(50, spec.idleTimeoutSec * 250))
    const check = setInterval(() => {
      try {
        const last = Math.max(startedAt, lastWriteAt([files.stdout, files.stderr]) ?? 0)
        if (now() - last >= spec.idleTimeoutSec) this.#terminate(id, 'idle')
      } catch (err) {
        this.#host.log.error({ err, jobId: id }, 'idle check failed')
      }
    }, checkMs)
    return { clear: () => clearInterval(check) }
  }
}

function sessionSpec (job: JobRecord): SessionJobSpec {
  if (!job.spec.session) throw new Error(`job ${job.id} has no session`)
  return job.spec.session
}

// The job's timeout counts from its recorded start, also for a command a new server re-adopts.
function remainingMs (job: JobRecord): number {
  if (job.spec.timeoutSec <= 0) return 0
  const startedAt = job.startedAt ?? now()
  return Math.max(1, Math.round((startedAt + job.spec.timeoutSec - now()) * 1000))
}
