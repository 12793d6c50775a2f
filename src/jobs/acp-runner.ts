import { closeSync, openSync, writeSync } from 'node:fs'
import { transcriptLine } from '../acp/transcript.js'
import type { AcpEvent, AcpLiveView, AcpResult, RunAcpOptions, SessionTerminalRunner, ToolCallState } from '../acp/types.js'
import { Errors } from '../errors.js'
import type { JobFiles } from '../exec/job-files.js'
import { isSameProcess, processStartTime, signalGroup } from '../exec/process-group.js'
import type { Logger } from '../logger.js'
import type { UpdateBlocker } from '../update/coordinator.js'
import { RunningJobs, type JobKind, type JobKindHost, type StartedProcess } from './kind.js'
import { ENDING_SIGNALS, type JobEnd, type KillReason } from './outcome.js'
import type { JobRecord, JobSpec } from './types.js'

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

/** The descriptors an ACP job writes: the agent's text, its stderr, the event log, and the transcript when asked for. */
interface AcpFds { stdout: number, stderr: number, events: number, transcript?: number }

/** The runner of a job's ACP terminals in its persistent shell session (`persistent_session_key`). */
export type SessionTerminalsFactory = (job: JobRecord) => SessionTerminalRunner

/** Loads `runAcpSession` (tests pass their own). */
export type AcpSessionLoader = () => Promise<typeof import('../acp/run-session.js').runAcpSession>

// Why: loaded at the first ACP job; the ACP SDK and zod add ~8 MiB to a server that may never run one.
const loadRunAcpSession: AcpSessionLoader = async () => (await import('../acp/run-session.js')).runAcpSession

/** Warm ACP sessions (src/acp-sessions): which jobs' turns they run, and those turns. */
export interface WarmSessions {
  /** The warm session that runs this job's turn (the one it was queued to, or the one holding its acp_session_id), if any. */
  holderOf: (job: JobRecord) => string | undefined
  /** Runs the job's turn in warm session `warmId`; never throws for a failed turn (that is `error`). */
  runTurn: (warmId: string, job: JobRecord, options: RunAcpOptions & { log: Logger }) => Promise<AcpResult>
}

/** The run options an ACP job's spec gives (the agent, its session and settings, the policy); the same for warm sessions. */
export function acpRunOptions (spec: JobSpec, agents: Readonly<Record<string, string>> | undefined): RunAcpOptions {
  const acp = spec.acp as NonNullable<JobSpec['acp']>
  return {
    agent: acp.agent,
    ...(agents ? { agents } : {}),
    ...(acp.capabilities ? { capabilities: acp.capabilities } : {}),
    prompt: acp.prompt,
    workdir: spec.workdir,
    env: spec.env,
    sessionId: acp.sessionId,
    model: acp.model,
    effort: acp.effort,
    mode: acp.mode,
    mcpServers: acp.mcpServers as never,
    permissionPolicy: acp.permissionPolicy,
  }
}

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
  /** Session lock key → the job holding it. */
  readonly #locks = new Map<string, string>()
  #accepting = true

  constructor (host: JobKindHost, load: AcpSessionLoader = loadRunAcpSession, sessionTerminals?: SessionTerminalsFactory, warm?: WarmSessions) {
    this.#host = host
    this.#load = load
    this.#sessionTerminals = sessionTerminals
    this.#warm = warm
  }

  /** True while some ACP session runs a job (then `ready` may refuse one). */
  get selective (): boolean {
    return this.#locks.size > 0
  }

  /** False while another job runs on the job's ACP session: it stays pending, in order. */
  ready (job: JobRecord): boolean {
    const key = this.#lockKey(job)
    return key === null || !this.#locks.has(key)
  }

  // Why: two turns on one ACP session at once can lose one of them (seen with claude-agent-acp).
  #lockKey (job: JobRecord): string | null {
    const warmId = this.#warm?.holderOf(job)
    if (warmId !== undefined) return `warm:${warmId}`
    const sessionId = job.spec.acp?.sessionId
    return sessionId ? `acp:${sessionId}` : null
  }

  #lock (job: JobRecord): void {
    const key = this.#lockKey(job)
    if (key !== null && !this.#locks.has(key)) this.#locks.set(key, job.id)
  }

  #unlock (id: string): void {
    for (const [key, holder] of this.#locks) if (holder === id) this.#locks.delete(key)
  }

  get size (): number {
    return this.#running.size
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
    this.#lock(job)
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
    const write = (fd: number, text: string | Buffer, what: string): void => {
      try { if (typeof text === 'string') writeSync(fd, text); else writeSync(fd, text) } catch (err) { log.error({ err }, `writing ${what} failed`) }
    }
    const onEvent = (event: AcpEvent): void => {
      write(fds.events, JSON.stringify(event) + '\n', 'an ACP event')
      const content = event.data.content as { type?: string, text?: unknown } | undefined
      if (event.type === 'message' && content?.type === 'text' && typeof content.text === 'string') write(fds.stdout, content.text, 'agent text')
    }
    let result: AcpResult
    try {
      const options: RunAcpOptions & { log: Logger } = {
        ...acpRunOptions(spec, this.#host.acpAgents),
        ...(fds.transcript !== undefined ? { onTranscript: (from, message) => write(fds.transcript as number, transcriptLine(from, message as never), 'the ACP transcript') } : {}),
        ...(acp.persistentSession && this.#sessionTerminals ? { sessionTerminals: this.#sessionTerminals(job) } : {}),
        timeoutMs: spec.timeoutSec * 1000,
        idleTimeoutMs: spec.idleTimeoutSec * 1000,
        cancelGraceMs: this.#host.killGraceMs,
        signal: running.abort.signal,
        log,
        onEvent: (event) => {
          try { onEvent(event) } catch (err) { log.error({ err }, 'recording an ACP event failed') }
        },
        onLive: (live) => { running.live = live },
        onStderr: (chunk) => write(fds.stderr, chunk, 'agent stderr'),
        onSpawn: (pid) => { running.pid = pid; onSpawn(pid) },
        onSession: (sessionId) => {
          running.sessionId = sessionId
          // A new session's id is locked too, so that a job loading it waits for this one.
          if (!this.#locks.has(`acp:${sessionId}`) && this.#warm?.holderOf(job) === undefined) this.#locks.set(`acp:${sessionId}`, id)
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
      this.#unlock(id)
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

/** Opens the job's files for appending (the transcript too when asked); on a failure, closes those already opened and throws. */
export function openFds (files: JobFiles, transcript = false): AcpFds {
  const opened: number[] = []
  try {
    for (const path of [files.stdout, files.stderr, files.events, ...(transcript ? [files.transcript] : [])]) opened.push(openSync(path, 'a'))
  } catch (err) {
    for (const fd of opened) closeSync(fd)
    throw err
  }
  const [stdout, stderr, events, transcriptFd] = opened as [number, number, number, number | undefined]
  return { stdout, stderr, events, ...(transcriptFd !== undefined ? { transcript: transcriptFd } : {}) }
}

function closeFds (fds: AcpFds, log: Logger): void {
  for (const fd of Object.values(fds)) {
    try { closeSync(fd) } catch (err) { log.error({ err }, 'closing a job file failed') }
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
    error: err instanceof Error ? err.message : String(err),
    timeout: null,
    aborted: false,
  }
}
