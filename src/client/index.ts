import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { FINISHED_STATUSES } from '../contract/job-status.js'
import { FilesClient } from './files.js'
import { fetchApi, isRetryableStatus, queryString, RuntimeError, type RequestOptions } from './http.js'
import { followJobEvents, type EventsOptions } from './job-events.js'
import type {
  AcpJobRequest, AcpPromptRequest, AcpSession, AcpSessionHistory, AcpSessionRequest, Health, Job, JobEvent, JobQuery, JobStatus, NudgeResult, ResizeResult, SessionInfo, SessionJobRequest, ShellJobRequest, StdinResult, SubmitResult, TerminalInfo, TerminalList,
} from './types.js'

export type * from './types.js'
export type * from './files.js'
export { FilesClient } from './files.js'
export { JOB_KEYS } from './types.js'
export type { EventsOptions } from './job-events.js'
export { RuntimeError } from './http.js'

export const DEFAULT_URL = 'http://127.0.0.1:8585'
const MAX_WAIT_SEC = 60

export interface ClientOptions {
  /** Base URL of the server; default http://127.0.0.1:8585. */
  url?: string
  apiKey?: string
  /** How often `submit` retries after a network error or a 429/503 (default 3), with the same Idempotency-Key. */
  submitRetries?: number
  /** First back-off between retries in ms (doubles each time, at most 5 s). */
  retryDelayMs?: number
}

export interface RunOptions {
  idempotencyKey?: string
  /** How long to wait for the job's end, in seconds (default: as long as it takes); the job is returned as it is then. */
  timeoutSec?: number
  signal?: AbortSignal
}

/** A typed client of agent-server's HTTP API, for Node 20+ (built-in fetch). */
export class RuntimeClient {
  readonly url: string
  readonly #apiKey: string | undefined
  readonly #submitRetries: number
  readonly #retryDelayMs: number
  /** The files API: streamed download and upload, tar, list, stat, remove, move, mkdir. */
  readonly files: FilesClient

  constructor (options: ClientOptions = {}) {
    this.files = new FilesClient((method, path, request) => this.#fetch(method, path, request))
    this.url = (options.url ?? DEFAULT_URL).replace(/\/+$/, '')
    this.#apiKey = options.apiKey
    this.#submitRetries = options.submitRetries ?? 3
    this.#retryDelayMs = options.retryDelayMs ?? 200
  }

  /** Submits a shell job. Retries are safe: they reuse one Idempotency-Key, so at most one job starts. */
  submit (request: ShellJobRequest, options: { idempotencyKey?: string } = {}): Promise<SubmitResult> {
    return this.#submit(request, options.idempotencyKey)
  }

  /**
   * Runs a shell job to its end: submits it and waits in the same request (POST /exec?wait), then
   * long-polls a job that outlasts that wait. Returns the job when it has ended or `timeoutSec`
   * passed (still running then). Retried like `submit`, with one Idempotency-Key.
   */
  async run (request: ShellJobRequest, options: RunOptions = {}): Promise<Job> {
    const deadline = Date.now() + (options.timeoutSec ?? Infinity) * 1000
    const firstWaitSec = Math.min(MAX_WAIT_SEC, options.timeoutSec ?? MAX_WAIT_SEC)
    const job = await this.#submit<Job>(request, options.idempotencyKey, { wait: firstWaitSec, signal: options.signal })
    if (FINISHED_STATUSES.has(job.status) || Date.now() >= deadline) return job
    return await this.wait(job.jobId, { timeoutSec: (deadline - Date.now()) / 1000, signal: options.signal })
  }

  /** Submits an ACP job (`mode: "acp"`), with the same retry guarantee as `submit`. */
  submitAcp (request: AcpJobRequest, options: { idempotencyKey?: string } = {}): Promise<SubmitResult> {
    return this.#submit({ ...request, mode: 'acp' }, options.idempotencyKey)
  }

  /** Submits one command to a persistent shell session (`mode: "persistent_shell"`), with the same retry guarantee as `submit`. */
  submitSession (request: SessionJobRequest, options: { idempotencyKey?: string } = {}): Promise<SubmitResult> {
    return this.#submit({ shell: 'bash', ...request, mode: 'persistent_shell' }, options.idempotencyKey)
  }

  /** Every persistent shell session, sorted by key. */
  sessions (): Promise<SessionInfo[]> {
    return this.#json('GET', '/sessions')
  }

  /** One session (RuntimeError 404 SESSION_NOT_FOUND when there is none). */
  session (key: string): Promise<SessionInfo> {
    return this.#json('GET', `/sessions/${encodeURIComponent(key)}`)
  }

  /** Ends a session: kills its processes, fails its running and queued commands, forgets seed and bootstrap. */
  deleteSession (key: string): Promise<{ deleted: true, sessionKey: string }> {
    return this.#json('DELETE', `/sessions/${encodeURIComponent(key)}`)
  }

  /** Starts an agent and an ACP session and keeps it warm (RuntimeError 502 ACP_SESSION_START_FAILED when the agent cannot). */
  openAcpSession (request: AcpSessionRequest = {}): Promise<AcpSession> {
    return this.#json('POST', '/acp/sessions', { body: request })
  }

  /** Queues a prompt in a warm ACP session; its turn is an ACP job (follow it with `get`, `wait`, `events`). */
  promptAcpSession (id: string, request: AcpPromptRequest): Promise<SubmitResult> {
    return this.#json('POST', `/acp/sessions/${encodeURIComponent(id)}/prompts`, { body: request })
  }

  /** Every warm ACP session this server knows. */
  acpSessions (): Promise<AcpSession[]> {
    return this.#json('GET', '/acp/sessions')
  }

  /** One warm ACP session (RuntimeError 404 ACP_SESSION_NOT_FOUND when there is none). */
  acpSession (id: string): Promise<AcpSession> {
    return this.#json('GET', `/acp/sessions/${encodeURIComponent(id)}`)
  }

  /** The prompt turns of a warm ACP session, with their job ids. */
  acpSessionHistory (id: string): Promise<AcpSessionHistory> {
    return this.#json('GET', `/acp/sessions/${encodeURIComponent(id)}/history`)
  }

  /** Closes a warm ACP session: its queued and running prompts are cancelled, the agent ended. */
  closeAcpSession (id: string): Promise<AcpSession> {
    return this.#json('DELETE', `/acp/sessions/${encodeURIComponent(id)}`)
  }

  /** The open terminals (GET /terminals). */
  async terminals (): Promise<TerminalInfo[]> {
    return (await this.#json<TerminalList>('GET', '/terminals')).terminals
  }

  /** Ends terminal `id` and waits until its processes are gone (RuntimeError 404 TERMINAL_NOT_FOUND when there is none). */
  endTerminal (id: string): Promise<{ id: string, status: 'ended' }> {
    return this.#json('DELETE', `/terminals/${encodeURIComponent(id)}`)
  }

  get (jobId: string, query: JobQuery = {}): Promise<Job> {
    return this.#json('GET', `/jobs/${encodeURIComponent(jobId)}${queryString(query)}`)
  }

  /** Long-polls until the job has finished (or `timeoutSec` passed) and returns it. */
  async wait (jobId: string, options: { timeoutSec?: number, signal?: AbortSignal | undefined } = {}): Promise<Job> {
    const deadline = Date.now() + (options.timeoutSec ?? Infinity) * 1000
    for (;;) {
      const left = Math.max(0, Math.min(MAX_WAIT_SEC, (deadline - Date.now()) / 1000))
      const job = await this.#json<Job>('GET', `/jobs/${encodeURIComponent(jobId)}?wait=${Math.ceil(left)}`, { signal: options.signal })
      if (FINISHED_STATUSES.has(job.status) || Date.now() >= deadline) return job
    }
  }

  list (options: { limit?: number, status?: JobStatus } = {}): Promise<Job[]> {
    return this.#json('GET', `/jobs${queryString(options)}`)
  }

  /**
   * The job's events, live, until its `exit` event. A dropped connection is resumed from the last
   * event received, so no byte is lost or repeated; gives up after `maxRetries` failures in a row.
   */
  events (jobId: string, options: EventsOptions = {}): AsyncGenerator<JobEvent> {
    return followJobEvents((path, request) => this.#fetch('GET', path, request), jobId, options, (failures) => this.#backoff(failures))
  }

  /** The job's stdout bytes (all of them, or from `offset`). */
  stdout (jobId: string, options: { offset?: number } = {}): Promise<Uint8Array> {
    return this.#bytes(`/jobs/${encodeURIComponent(jobId)}/stdout${queryString(options)}`)
  }

  stderr (jobId: string, options: { offset?: number } = {}): Promise<Uint8Array> {
    return this.#bytes(`/jobs/${encodeURIComponent(jobId)}/stderr${queryString(options)}`)
  }

  nudge (jobId: string): Promise<NudgeResult> {
    return this.#json('POST', `/jobs/${encodeURIComponent(jobId)}/nudge`)
  }

  /** Writes to the job's stdin: a string as UTF-8, bytes as they are (sent as `dataBase64`); `eof` closes it after. */
  writeStdin (jobId: string, data: string | Uint8Array, eof = false): Promise<StdinResult> {
    const body = typeof data === 'string' ? { data, eof } : { dataBase64: Buffer.from(data).toString('base64'), eof }
    return this.#json('POST', `/jobs/${encodeURIComponent(jobId)}/stdin`, { body })
  }

  /** Changes the window size of a running tty job's terminal (RuntimeError 409 NOT_A_TTY_JOB for other jobs). */
  resize (jobId: string, cols: number, rows: number): Promise<ResizeResult> {
    return this.#json('POST', `/jobs/${encodeURIComponent(jobId)}/resize`, { body: { cols, rows } })
  }

  /** Answers a permission request of an ACP job with policy `ask` (see its `permission_request` events). */
  answerPermission (jobId: string, requestId: string, optionId: string): Promise<{ jobId: string, requestId: string, outcome: { outcome: 'selected', optionId: string } }> {
    return this.#json('POST', `/jobs/${encodeURIComponent(jobId)}/permission`, { body: { requestId, optionId } })
  }

  kill (jobId: string, signal?: string): Promise<{ jobId: string, status: JobStatus, signal: string | null }> {
    return this.#json('POST', `/jobs/${encodeURIComponent(jobId)}/kill`, { body: signal ? { signal } : {} })
  }

  health (): Promise<Health> {
    return this.#json('GET', '/health')
  }

  update (body: { drain?: number } = {}): Promise<{ status: string, version: string, message: string }> {
    return this.#json('POST', '/update', { body })
  }

  async #submit<T = SubmitResult> (body: object, idempotencyKey: string = randomUUID(), waiting: { wait?: number, signal?: AbortSignal | undefined } = {}): Promise<T> {
    const path = `/exec${queryString({ wait: waiting.wait })}`
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#json<T>('POST', path, { body, headers: { 'idempotency-key': idempotencyKey }, signal: waiting.signal })
      } catch (err) {
        if (!(err instanceof RuntimeError) || !isRetryableStatus(err.status) || attempt >= this.#submitRetries) throw err
        await sleep(this.#backoff(attempt + 1))
      }
    }
  }

  #backoff (attempt: number): number {
    return Math.min(5000, this.#retryDelayMs * 2 ** (attempt - 1))
  }

  async #json<T> (method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.#fetch(method, path, options)
    return await response.json() as T
  }

  async #bytes (path: string): Promise<Uint8Array> {
    const response = await this.#fetch('GET', path)
    return new Uint8Array(await response.arrayBuffer())
  }

  #fetch (method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    return fetchApi(this.url, this.#apiKey, method, path, options)
  }
}
