import type { AcpLiveView, AcpResult, RunAcpOptions, SessionTerminalRunner, ToolCallState } from '../acp/types.js'
import { Errors } from '../errors.js'
import { isSameProcess, processStartTime, signalGroup } from '../exec/process-group.js'
import type { Logger } from '../logger.js'
import type { UpdateBlocker } from '../update/coordinator.js'
import { acpFileWriters, closeFds, openFds, type AcpFds } from './acp-files.js'
import { acpRunOptions, type WarmSessions } from './acp-run-options.js'
import { AcpSessionLocks } from './acp-session-locks.js'
import { RunningJobs, type JobKind, type JobKindHost, type StartedProcess } from './kind.js'
import { ENDING_SIGNALS, type JobEnd, type KillReason } from './outcome.js'
import type { JobRecord } from './types.js'
import { errorMessage } from '../lib/error-message.js'

interface Question {
  options: Set<string>
  answer: (optionId: string) => void
}

interface RunningAcpJob {
  abort: AbortController
  killReason: KillReason | null
  pid: number | null
  sessionId: string | null
  /** The run's recorder, read live (set as the run begins). */
  live: AcpLiveView | null
  questions: Map<string, Question>
  done: Promise<void>
}

/** The runner of a job's ACP terminals in its persistent shell session (`persistent_session_key`). */
export type SessionTerminalsFactory = (job: JobRecord) => SessionTerminalRunner

/** Loads `runAcpSession` (tests pass their own). */
export type AcpSessionLoader = () => Promise<typeof import('../acp/run-session.js').runAcpSession>

// Why: loaded at the first ACP job; the ACP SDK and zod add ~8 MiB to a server that may never run one.
const loadRunAcpSession: AcpSessionLoader = async () => (await import('../acp/run-session.js')).runAcpSession

/** What GET /jobs/:id shows of a running ACP job. */
export interface AcpLiveState {
  sessionId: string | null
  toolCalls: ToolCallState[]
}

// ACP jobs (mode "acp"): each one a runAcpSession (or a turn of a warm session) whose events go to
// the job's files as they happen. Jobs on one ACP session run one at a time, in order: a job whose
// session (warm, or its acp_session_id) is busy stays pending (`ready`).
export class AcpJobRunner implements JobKind {
  readonly #host: JobKindHost
  readonly #load: AcpSessionLoader
  readonly #running = new RunningJobs<RunningAcpJob>()
  readonly #sessionTerminals: SessionTerminalsFactory | undefined
  readonly #warm: WarmSessions | undefined
  readonly #locks: AcpSessionLocks
  #accepting = true

  constructor (host: JobKindHost, load: AcpSessionLoader = loadRunAcpSession, sessionTerminals?: SessionTerminalsFactory, warm?: WarmSessions) {
    this.#host = host
    this.#load = load
    this.#sessionTerminals = sessionTerminals
    this.#warm = warm
    this.#locks = new AcpSessionLocks(warm)
  }

  /** True while some ACP session runs a job or is being opened warm (then `ready` may refuse one). */
  get selective (): boolean {
    return this.#locks.selective
  }

  /** False while another job runs on the job's ACP session: it stays pending, in order. */
  ready (job: JobRecord): boolean {
    return this.#locks.free(job)
  }

  get size (): number {
    return this.#running.size
  }

  /** True while a job runs a turn on ACP session `sessionId` (a warm session must not load it meanwhile). */
  sessionBusy (sessionId: string): boolean {
    return this.#locks.held(sessionId)
  }

  /** False while an update drains: pending ACP jobs then wait instead of starting. */
  get accepting (): boolean {
    return this.#accepting
  }

  has (id: string): boolean {
    return this.#running.has(id)
  }

  live (id: string): AcpLiveState | undefined {
    const job = this.#running.get(id)
    return job && { sessionId: job.live?.sessionId ?? job.sessionId, toolCalls: job.live?.toolCalls ?? [] }
  }

  /** ACP jobs cannot survive a restart: while they run, POST /update answers 409 (devpilot's shape, plus `acp_jobs`). */
  updateBlocker (): UpdateBlocker {
    return {
      error: 'cannot update while ACP jobs are running',
      countKey: 'acp_jobs',
      // Why: devpilot's clients read `running_jobs` from this 409; ours always said `acp_jobs`.
      alsoCountKeys: ['running_jobs'],
      count: () => this.#running.size,
      setAccepting: (accepting) => { this.#accepting = accepting },
    }
  }

  /**
   * Starts the agent; resolves once it runs, or with pid null when the run ended before an agent
   * spawned (its end is then reported as usual). Rejects, holding nothing, when the run could not
   * even begin (the ACP SDK failed to load, `runAcpSession` threw before a spawn).
   */
  async start (job: JobRecord): Promise<StartedProcess> {
    const { id } = job
    if (!job.spec.acp) throw new Error(`job ${id} is not an ACP job`)
    const fds = openFds(this.#host.files(id), job.spec.acp.transcript === true)
    const running: RunningAcpJob = {
      abort: new AbortController(), killReason: null, pid: null, sessionId: null, live: null, questions: new Map(), done: Promise.resolve(),
    }
    let spawned!: { resolve: (pid: number | null) => void, reject: (err: unknown) => void }
    const agentPid = new Promise<number | null>((resolve, reject) => { spawned = { resolve, reject } })
    this.#running.set(id, running)
    this.#locks.lock(job)
    running.done = this.#run(job, running, fds, (pid) => spawned.resolve(pid))
      .then((end) => {
        spawned.resolve(running.pid)
        this.#host.ended(id, end)
      }, (err: unknown) => spawned.reject(err))
      .catch((err: unknown) => this.#host.log.error({ err, jobId: id }, 'ACP job finish failed'))
    const pid = await agentPid
    return { pid, startTime: pid === null ? null : processStartTime(pid) }
  }

  /**
   * One run, with the job's files closed and its entry gone whatever happens. Resolves with the
   * job's end; rejects only when the run failed before its agent spawned (the start then fails).
   */
  async #run (job: JobRecord, running: RunningAcpJob, fds: AcpFds, onSpawn: (pid: number) => void): Promise<JobEnd> {
    const { id, spec } = job
    const acp = spec.acp as NonNullable<JobRecord['spec']['acp']>
    const log = this.#host.log.child({ jobId: id })
    const writers = acpFileWriters(fds, log)
    let result: AcpResult
    try {
      const options: RunAcpOptions & { log: Logger } = {
        ...acpRunOptions(spec, this.#host.acpAgents),
        ...(writers.transcript !== undefined ? { onTranscript: writers.transcript } : {}),
        ...(acp.persistentSession && this.#sessionTerminals ? { sessionTerminals: this.#sessionTerminals(job) } : {}),
        timeoutMs: spec.timeoutSec * 1000,
        idleTimeoutMs: spec.idleTimeoutSec * 1000,
        cancelGraceMs: this.#host.killGraceMs,
        signal: running.abort.signal,
        log,
        onEvent: (event) => {
          try { writers.event(event) } catch (err) { log.error({ err }, 'recording an ACP event failed') }
        },
        onLive: (live) => { running.live = live },
        onStderr: writers.stderr,
        onSpawn: (pid) => { running.pid = pid; onSpawn(pid) },
        onSession: (sessionId) => {
          running.sessionId = sessionId
          // A new session's id is locked too, so that a job loading it waits for this one.
          this.#locks.lockNewSession(job, sessionId)
          this.#host.progress(id, { acp: { sessionId, stopReason: null, toolCalls: [], error: null } })
        },
        onPermissionRequest: (request) => new Promise<string | null>((resolve) => {
          running.questions.set(request.requestId, { options: new Set(request.options.map((o) => o.optionId)), answer: resolve })
          request.signal.addEventListener('abort', () => { running.questions.delete(request.requestId); resolve(null) }, { once: true })
        }),
      }
      const warmId = this.#warm?.holderOf(job)
      result = warmId !== undefined ? await (this.#warm as WarmSessions).runTurn(warmId, job, options) : await (await this.#load())(options)
    } catch (err) {
      if (running.pid === null) throw err
      // Why: runAcpSession never throws by contract; if it does after a spawn, the job still ends, with the error.
      log.error({ err }, 'ACP run failed')
      result = failedResult(running, err)
    } finally {
      closeFds(fds, log)
      this.#running.delete(id)
      this.#locks.unlock(id)
    }
    return { type: 'acp', result, reason: running.killReason }
  }

  /** An ending signal cancels the turn (session/cancel, grace, group kill); any other goes to the agent's group. */
  signal (id: string, signal: NodeJS.Signals): void {
    this.#signal(id, signal, 'cancel')
  }

  #signal (id: string, signal: NodeJS.Signals, reason: KillReason): void {
    const running = this.#running.get(id)
    if (!running) return
    if (ENDING_SIGNALS.has(signal)) {
      running.killReason ??= reason
      running.abort.abort()
    } else if (running.pid !== null) {
      signalGroup(running.pid, signal)
    }
  }

  /** Answers a permission request that waits for a person (policy `ask`). */
  answerPermission (id: string, requestId: string, optionId: string): void {
    const question = this.#running.get(id)?.questions.get(requestId)
    if (!question) throw new Errors.PERMISSION_REQUEST_NOT_FOUND(requestId)
    if (!question.options.has(optionId)) throw new Errors.UNKNOWN_PERMISSION_OPTION(optionId, [...question.options].join(', '))
    this.#running.get(id)?.questions.delete(requestId)
    question.answer(optionId)
  }

  /** An ACP job that an earlier server left running: its agent (if still there) is ended, and the job is lost. */
  adopt (job: JobRecord): JobEnd {
    if (job.pid !== null && isSameProcess(job.pid, job.pidStartTime)) {
      this.#host.log.info({ jobId: job.id, pid: job.pid }, 'ending the agent of a lost ACP job')
      signalGroup(job.pid, 'SIGKILL')
    }
    return { type: 'lost', mode: 'acp' }
  }

  /** ACP runs cannot outlive this server: a restart ends them like a stop. */
  detachAll (): void {}

  /** Ends every running ACP job (they cannot outlive this server) and resolves when all are reported. */
  async stopAll (): Promise<void> {
    for (const id of this.#running.ids()) this.#signal(id, 'SIGTERM', 'shutdown')
    await Promise.all(this.#running.values().map((r) => r.done))
  }
}

function failedResult (running: RunningAcpJob, err: unknown): AcpResult {
  return {
    sessionId: running.sessionId,
    outputText: '',
    toolCalls: running.live?.toolCalls ?? [],
    events: [],
    stopReason: 'error',
    stderr: '',
    error: errorMessage(err),
    timeout: null,
    aborted: false,
  }
}
