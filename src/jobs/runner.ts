import { Errors } from '../errors.js'
import { readExitFile } from '../exec/job-files.js'
import { JobProcess } from '../exec/job-process.js'
import { createJobStarter, type JobStarter } from '../exec/job-starter.js'
import { launchedPid } from '../exec/launch-file.js'
import { isSameProcess, processStartTime } from '../exec/process-group.js'
import { childEnv, withoutSecrets } from '../lib/child-env.js'
import type { LongTimer } from '../lib/long-timer.js'
import { armJobLimits } from './limits.js'
import { RunningJobs, type JobKind, type JobKindHost, type StartedProcess } from './kind.js'
import type { JobEnd, KillReason } from './outcome.js'
import { signalJob, terminateJob } from './process-signals.js'
import type { JobRecord } from './types.js'

/** Unread stdin the server holds for one job before refusing more (the job is not reading). */
export const STDIN_BUFFER_LIMIT_BYTES = 1024 * 1024

interface RunningJob {
  process: JobProcess
  killReason: KillReason | null
  stdinOpen: boolean
  timers: LongTimer[]
  done: Promise<void>
}

// Shell jobs (mode "shell"): start or adopt their process, timeouts, idle checks, signals, stdin, exit.
export class JobRunner implements JobKind {
  readonly #host: JobKindHost
  readonly #running = new RunningJobs<RunningJob>()
  #detached = false
  // Why: copying and filtering the server's environment for every job showed up in profiles.
  readonly #baseEnv = childEnv()
  readonly #starter: JobStarter

  constructor (host: JobKindHost) {
    this.#host = host
    this.#starter = createJobStarter(host.log)
  }

  get size (): number {
    return this.#running.size
  }

  has (id: string): boolean {
    return this.#running.has(id)
  }

  /** Moves a job folder the launcher made ahead of time to `dir`; false when there is none. */
  takeFolder (_job: JobRecord, dir: string): boolean {
    return this.#starter.takeFolder(dir)
  }

  /** Starts the job's process (throws when it cannot be started) and follows it. */
  async start (job: JobRecord): Promise<StartedProcess> {
    const { spec } = job
    const process = await this.#starter.start({
      files: this.#host.files(job.id),
      command: spec.command,
      shell: spec.shell,
      cwd: spec.workdir,
      // Why the same object when the job sets no variables: the launcher's request keeps its encoding.
      env: Object.keys(spec.env).length === 0 ? this.#baseEnv : { ...this.#baseEnv, ...withoutSecrets(spec.env) },
      stdin: spec.stdinEof && spec.stdin === null ? 'ignore' : 'pipe',
    })
    if (spec.stdin !== null) process.stdin?.write(spec.stdin)
    if (spec.stdinEof) process.stdin?.end()
    this.#follow(job, process, !spec.stdinEof)
    return { pid: process.pid, startTime: process.startTime }
  }

  /**
   * Takes over a job an earlier server left running: follows its process if it is still alive
   * (returns null), else returns how it ended (its recorded exit status, or lost).
   */
  adopt (job: JobRecord): JobEnd | null {
    const files = this.#host.files(job.id)
    if (job.pid !== null && isSameProcess(job.pid, job.pidStartTime)) {
      this.#host.log.info({ jobId: job.id, pid: job.pid }, 'job re-adopted')
      this.#follow(job, JobProcess.adopt(job.pid, job.pidStartTime, files), false)
      return null
    }
    const status = readExitFile(files.exit)
    const launched = job.pid === null && status === null ? launchedPid(files) : null
    if (launched !== null && processStartTime(launched) !== null) {
      // Why: the last server died after the launcher started the job but before it recorded the pid.
      this.#host.log.info({ jobId: job.id, pid: launched }, 'job re-adopted from its launch file')
      const process = JobProcess.adopt(launched, processStartTime(launched), files)
      this.#host.progress(job.id, { pid: launched, pidStartTime: process.startTime })
      this.#follow(job, process, false)
      return null
    }
    this.#host.log.info({ jobId: job.id, exitCode: status }, 'job ended while no server was running')
    return status !== null ? { type: 'process', end: { type: 'status', status }, reason: null } : { type: 'lost', mode: 'shell' }
  }

  /** Follows a process (started here or adopted): enforces the job's limits and reports its exit. */
  #follow (job: JobRecord, process: JobProcess, stdinOpen: boolean): void {
    const { id } = job
    const timers = armJobLimits(job, this.#host.files(id), (reason) => this.#terminate(id, reason), this.#host.log)
    const done = process.exited
      .then((end) => {
        if (this.#detached) return
        const running = this.#running.get(id)
        for (const timer of running?.timers ?? []) timer.clear()
        this.#running.delete(id)
        this.#host.ended(id, { type: 'process', end, reason: running?.killReason ?? null })
      })
      .catch((err: unknown) => this.#host.log.error({ err, jobId: id }, 'job finish failed'))
    this.#running.set(id, { process, killReason: null, stdinOpen, timers, done })
  }

  /** SIGTERM to the job's group, SIGKILL after the grace; the first reason given is the one recorded. */
  #terminate (id: string, reason: KillReason): void {
    terminateJob(this.#running.get(id), reason, this.#host.killGraceMs, this.#host.log, id)
  }

  /** Sends one signal to the job's group (SIGTERM: the whole kill sequence); an ending signal makes the job end `cancelled`. */
  signal (id: string, signal: NodeJS.Signals): void {
    signalJob(this.#running.get(id), signal, this.#host.killGraceMs, this.#host.log, id)
  }

  /** Queues bytes for the job's stdin (never waiting for the job to read them) and optionally closes it. */
  writeStdin (id: string, data: string | Buffer, eof: boolean): number {
    const running = this.#running.get(id)
    const stdin = running?.process.stdin
    if (!running || !stdin || !running.stdinOpen || stdin.destroyed || stdin.writableEnded) throw new Errors.STDIN_CLOSED()
    if (stdin.writableLength > STDIN_BUFFER_LIMIT_BYTES) throw new Errors.STDIN_BUSY(STDIN_BUFFER_LIMIT_BYTES)
    const bytes = Buffer.byteLength(data)
    if (bytes > 0) stdin.write(data)
    if (eof) {
      running.stdinOpen = false
      stdin.end()
    }
    return bytes
  }

  /** Lets every running job go on without this server: limits and exit reports stop here. */
  detachAll (): void {
    this.#detached = true
    for (const running of this.#running.values()) {
      for (const timer of running.timers) timer.clear()
      running.process.detach()
    }
    this.#starter.close()
  }

  /** Ends every running job (reason `shutdown`) and resolves when all have been reported. */
  async stopAll (): Promise<void> {
    if (this.#detached) return
    for (const id of this.#running.ids()) this.#terminate(id, 'shutdown')
    await Promise.all(this.#running.values().map((r) => r.done))
    this.#starter.close()
  }
}
