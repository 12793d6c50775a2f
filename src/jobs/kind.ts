// The one shape every kind of job has (shell, ACP, and next persistent shells), and the pieces the
// kinds share. The manager holds one `JobKind` per `JobMode` and never branches on the mode.
import type { JobFiles } from '../exec/job-files.js'
import type { Logger } from '../logger.js'
import type { UpdateBlocker } from '../update/coordinator.js'
import type { JobEnd } from './outcome.js'
import type { AcpOutcome, JobRecord } from './types.js'

/** The process a kind started for a job: recorded on the job (`pid`, `pidStartTime` from /proc). */
export interface StartedProcess {
  pid: number | null
  startTime: string | null
}

/** What a kind may have recorded on a job while it runs (the manager writes it). */
export interface JobProgress {
  acp?: AcpOutcome
  /** A re-adopted job's process, when the last server died before recording it. */
  pid?: number
  pidStartTime?: string | null
}

/** What the manager gives each kind: where job files live, the kill grace, and how to report. */
export interface JobKindHost {
  /** Where job `id` keeps its output and exit status (the manager's `files`): kinds never compute job paths themselves. */
  files: (id: string) => JobFiles
  killGraceMs: number
  /** ACP agents by name over the built-in table (`--acp-agents`). */
  acpAgents?: Readonly<Record<string, string>>
  log: Logger
  /** The job has ended: called exactly once per job the kind started or re-adopted. */
  ended: (id: string, end: JobEnd) => void
  /** Something worth recording before the end (e.g. an ACP session id). */
  progress: (id: string, fields: JobProgress) => void
  /** Pending jobs the kind held back (`ready` was false) may start now: look again soon. */
  pump?: () => void
}

/**
 * One kind of job. The contract:
 * - **The manager is the only writer of job records.** It records `running` and `startedAt`
 *   before calling `start`, the pid and start time `start` resolves with, whatever `progress`
 *   reports, and the outcome of `ended` (through the pure `outcome.ts`). A kind never touches the
 *   store.
 * - **Start.** `start(job)` resolves once the job runs, with its process: the pid of the leader of
 *   the job's own process group (what kills target) and its start time from
 *   `processStartTime(pid)`, which `adopt` later compares to recognise the same process (pid null
 *   when there is none, e.g. an ACP run that ended before its agent spawned). From then on the kind
 *   owns the job: `has(id)` is true until it calls `host.ended(id, …)`, exactly once, after the
 *   job's processes are gone. `ended` may come before `start` resolves; the manager copes. If
 *   `start` rejects, the kind holds nothing for that job (no process, no open file, no entry in
 *   `size`) and never calls `ended`: the manager records the job `failed` ("cannot start the
 *   job: …"). Signals asked for while `start` runs are held by the manager and sent after it.
 * - **Progress.** `host.progress(id, fields)` records what is known before the end; a new kind
 *   that needs another field adds it to `JobProgress`.
 * - **End.** `host.ended(id, end)` with a `JobEnd` of facts (a `ProcessEnd` and the kill reason,
 *   an ACP result, …); `outcome.ts` alone turns them into status, exit code, signal and error.
 * - **Output files.** A kind writes the job's output where `host.files(id)` says (stdout,
 *   stderr, events, exit) and creates nothing else; the manager created `jobs/<id>/`, from a
 *   folder the kind made ahead of time when `takeFolder` gives one.
 * - **Signals.** `signal(id, signal)` with one of `ENDING_SIGNALS` asks the job to end (reason
 *   `cancel`: it ends `cancelled`); any other signal is delivered and leaves the outcome alone.
 *   Signals for ids the kind does not hold are ignored.
 * - **Restarts.** `adopt(job)` runs at start-up for each job an earlier server left `running`: the
 *   kind follows it (returns null, then reports its end through `ended`; its limits count from
 *   the recorded `startedAt`) or says how it ended. `detachAll()` lets running jobs go on without
 *   this server (self-update) and reports nothing more; `stopAll()` ends what is still held
 *   (reason `shutdown`) and resolves when every end has been reported.
 */
export interface JobKind {
  /** Jobs this kind runs now. */
  readonly size: number
  has: (id: string) => boolean
  start: (job: JobRecord) => Promise<StartedProcess>
  signal: (id: string, signal: NodeJS.Signals) => void
  adopt: (job: JobRecord) => JobEnd | null
  detachAll: () => void
  stopAll: () => Promise<void>
  /** Kinds with a stdin: queues bytes (never waiting for the job to read them), optionally closing it. */
  writeStdin?: (id: string, data: string | Buffer, eof: boolean) => number
  /** Kinds whose jobs run on a terminal (tty jobs): changes its window size. */
  resize?: (id: string, cols: number, rows: number) => void
  /** Kinds whose jobs ask a person for permissions (ACP, policy `ask`): answers one request. */
  answerPermission?: (id: string, requestId: string, optionId: string) => void
  /** Kinds whose jobs cannot survive a restart: they block POST /update while they run. */
  updateBlocker?: () => UpdateBlocker
  /** False while an update drains: pending jobs of this kind wait instead of starting. */
  readonly accepting?: boolean
  /** Kinds that run some jobs one after another (a session's commands): false keeps `job` pending for now. */
  ready?: (job: JobRecord) => boolean
  /** True while `ready` may refuse a job (the manager only then checks each pending job). */
  readonly selective?: boolean
  /** Called at start-up once every running job has been given to `adopt` (kinds that re-adopt them together). */
  adopted?: () => void
  /** Kinds that make job folders ahead of time: moves one to `dir` (which does not exist) for `job`; false leaves the manager to create it. */
  takeFolder?: (job: JobRecord, dir: string) => boolean
  /** Kinds with their own nudge semantics (persistent sessions): devpilot's answer for POST /jobs/:id/nudge. */
  nudge?: (id: string) => { nudged: true, processAlive: true } | { nudged: false, reason: string, processAlive: boolean }
}

/** The running jobs of one kind, by id: the `size`/`has` every kind shares. */
export class RunningJobs<T> {
  readonly #jobs = new Map<string, T>()

  get size (): number {
    return this.#jobs.size
  }

  has (id: string): boolean {
    return this.#jobs.has(id)
  }

  get (id: string): T | undefined {
    return this.#jobs.get(id)
  }

  set (id: string, job: T): void {
    this.#jobs.set(id, job)
  }

  delete (id: string): boolean {
    return this.#jobs.delete(id)
  }

  ids (): string[] {
    return [...this.#jobs.keys()]
  }

  values (): T[] {
    return [...this.#jobs.values()]
  }
}
