import { closeSync, openSync, writeSync } from 'node:fs'
import { mergeToolCall } from '../acp/recorder.js'
import type { AcpEvent, AcpResult, ToolCallState } from '../acp/types.js'
import { Errors } from '../errors.js'
import { jobFiles } from '../exec/job-files.js'
import { isSameProcess, processStartTime, signalGroup } from '../exec/process-group.js'
import type { Logger } from '../logger.js'
import type { ExitListener, KillReason } from './runner.js'
import type { JobStore } from './store.js'
import type { AcpOutcome, ExitInfo, JobRecord } from './types.js'

// Signals that ask a job to end: for an ACP job they mean session/cancel, then the escalation.
const ENDING_SIGNALS: ReadonlySet<string> = new Set(['SIGTERM', 'SIGINT', 'SIGKILL', 'SIGHUP', 'SIGQUIT', 'SIGABRT'])
// Stop reasons that end an ACP job `completed` with exit code 0 (devpilot's mapping).
const SUCCESS_STOP_REASONS: ReadonlySet<string> = new Set(['end_turn', 'no_prompt'])
const LOST_ERROR = 'lost: the server stopped while this ACP job ran, and ACP sessions cannot survive a restart'

interface Question {
  options: Set<string>
  answer: (optionId: string) => void
}

interface RunningAcpJob {
  abort: AbortController
  killReason: KillReason | null
  pid: number | null
  sessionId: string | null
  toolCalls: Map<string, ToolCallState>
  questions: Map<string, Question>
  done: Promise<void>
}

/** What GET /jobs/:id shows of a running ACP job. */
export interface AcpLiveState {
  sessionId: string | null
  toolCalls: ToolCallState[]
}

// The ACP jobs this server runs: each one a runAcpSession whose events go to the job's files as they happen.
export class AcpJobRunner {
  readonly #stateDir: string
  readonly #killGraceMs: number
  readonly #store: JobStore
  readonly #log: Logger
  readonly #onExit: ExitListener
  readonly #running = new Map<string, RunningAcpJob>()
  /** False while an update drains: pending ACP jobs then wait instead of starting. */
  accepting = true

  constructor (options: { stateDir: string, killGraceMs: number, store: JobStore, log: Logger, onExit: ExitListener }) {
    this.#stateDir = options.stateDir
    this.#killGraceMs = options.killGraceMs
    this.#store = options.store
    this.#log = options.log
    this.#onExit = options.onExit
  }

  get size (): number {
    return this.#running.size
  }

  has (id: string): boolean {
    return this.#running.has(id)
  }

  live (id: string): AcpLiveState | undefined {
    const job = this.#running.get(id)
    return job && { sessionId: job.sessionId, toolCalls: [...job.toolCalls.values()] }
  }

  /** Starts the agent; resolves once it runs (or could not be started, which ends the job). */
  start (job: JobRecord): Promise<{ pid: number | null, startTime: string | null }> {
    const { id, spec } = job
    const acp = spec.acp
    if (!acp) throw new Error(`job ${id} is not an ACP job`)
    const files = jobFiles(this.#stateDir, id)
    const fds = { stdout: openSync(files.stdout, 'a'), stderr: openSync(files.stderr, 'a'), events: openSync(files.events, 'a') }
    const log = this.#log.child({ jobId: id })
    let started: (pid: number | null) => void = () => {}
    const spawned = new Promise<number | null>((resolve) => { started = resolve })
    const running: RunningAcpJob = {
      abort: new AbortController(), killReason: null, pid: null, sessionId: null, toolCalls: new Map(), questions: new Map(), done: Promise.resolve(),
    }
    const onEvent = (event: AcpEvent): void => {
      writeSync(fds.events, JSON.stringify(event) + '\n')
      const content = event.data.content as { type?: string, text?: unknown } | undefined
      if (event.type === 'message' && content?.type === 'text' && typeof content.text === 'string') writeSync(fds.stdout, content.text)
      if (event.type === 'tool_call' || event.type === 'tool_call_update') mergeToolCall(running.toolCalls, event.data as ToolCallState, true)
    }
    // Why: loaded at the first ACP job; the ACP SDK and zod add ~8 MiB to a server that may never run one.
    running.done = import('../acp/run-session.js').then(({ runAcpSession }) => runAcpSession({
      agent: acp.agent,
      prompt: acp.prompt,
      workdir: spec.workdir,
      env: spec.env,
      sessionId: acp.sessionId,
      model: acp.model,
      effort: acp.effort,
      mode: acp.mode,
      mcpServers: acp.mcpServers as never,
      permissionPolicy: acp.permissionPolicy,
      timeoutMs: spec.timeoutSec * 1000,
      idleTimeoutMs: spec.idleTimeoutSec * 1000,
      cancelGraceMs: this.#killGraceMs,
      signal: running.abort.signal,
      log,
      onEvent: (event) => {
        try { onEvent(event) } catch (err) { log.error({ err }, 'writing an ACP event failed') }
      },
      onStderr: (chunk) => {
        try { writeSync(fds.stderr, chunk) } catch (err) { log.error({ err }, 'writing agent stderr failed') }
      },
      onSpawn: (pid) => { running.pid = pid; started(pid) },
      onSession: (sessionId) => {
        running.sessionId = sessionId
        this.#store.update(id, { acp: { sessionId, stopReason: null, toolCalls: [], error: null } })
      },
      onPermissionRequest: (request) => new Promise<string | null>((resolve) => {
        running.questions.set(request.requestId, { options: new Set(request.options.map((o) => o.optionId)), answer: resolve })
        request.signal.addEventListener('abort', () => { running.questions.delete(request.requestId); resolve(null) }, { once: true })
      }),
    }))
      .then((result) => {
        started(null)
        for (const fd of Object.values(fds)) closeSync(fd)
        this.#running.delete(id)
        this.#store.update(id, { acp: outcomeOf(result) })
        this.#onExit(id, exitInfoOf(result), reasonOf(result, running.killReason))
      })
      .catch((err: unknown) => log.error({ err }, 'ACP job finish failed'))
    this.#running.set(id, running)
    return spawned.then((pid) => ({ pid, startTime: pid === null ? null : processStartTime(pid) }))
  }

  /** An ending signal cancels the turn (session/cancel, grace, group kill); any other goes to the agent's group. */
  signal (id: string, signal: NodeJS.Signals, reason: KillReason = 'cancel'): void {
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
  answer (id: string, requestId: string, optionId: string): void {
    const question = this.#running.get(id)?.questions.get(requestId)
    if (!question) throw new Errors.PERMISSION_REQUEST_NOT_FOUND(requestId)
    if (!question.options.has(optionId)) throw new Errors.UNKNOWN_PERMISSION_OPTION(optionId, [...question.options].join(', '))
    this.#running.get(id)?.questions.delete(requestId)
    question.answer(optionId)
  }

  /** An ACP job that an earlier server left running: its agent (if still there) is ended, and the job is lost. */
  lost (job: JobRecord): ExitInfo {
    if (job.pid !== null && isSameProcess(job.pid, job.pidStartTime)) {
      this.#log.info({ jobId: job.id, pid: job.pid }, 'ending the agent of a lost ACP job')
      signalGroup(job.pid, 'SIGKILL')
    }
    return { exitCode: null, signal: null, error: LOST_ERROR }
  }

  /** Ends every running ACP job (they cannot outlive this server) and resolves when all are recorded. */
  async stopAll (): Promise<void> {
    for (const id of this.#running.keys()) this.signal(id, 'SIGTERM', 'shutdown')
    await Promise.all([...this.#running.values()].map((r) => r.done))
  }
}

function outcomeOf (result: AcpResult): AcpOutcome {
  return { sessionId: result.sessionId, stopReason: result.stopReason, toolCalls: result.toolCalls, error: result.error }
}

// Why: devpilot's mapping: end_turn / no_prompt → exit 0, anything else (timeout included) → exit 1.
function exitInfoOf (result: AcpResult): ExitInfo {
  const ok = result.error === null && SUCCESS_STOP_REASONS.has(result.stopReason)
  return { exitCode: ok ? 0 : 1, signal: null, error: result.error }
}

function reasonOf (result: AcpResult, killReason: KillReason | null): KillReason | null {
  if (result.timeout === 'total') return 'timeout'
  if (result.timeout === 'idle') return 'idle'
  return result.aborted ? killReason ?? 'cancel' : null
}
