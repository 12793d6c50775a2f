import { Readable, Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  ndJsonStream, RequestError,
  type AgentRequestMethod, type AgentRequestParamsByMethod, type AgentRequestResponsesByMethod,
  type ClientApp, type ClientConnection,
} from '@agentclientprotocol/sdk'
import { AgentGoneError, type AgentProcess } from './agent-process.js'
import { lacksDetails, stderrHint } from './stderr-hint.js'
import type { StreamTap } from './stream-tap.js'

// After the agent exits, how long its last messages may take to arrive (Zed drains for 250 ms).
const EXIT_DRAIN_MS = 250
// After the connection closed, how long we wait to learn the agent's exit status and last stderr.
const EXIT_STATUS_WAIT_MS = 1000
// For an error without details: how long the agent's stderr (another pipe) may take to catch up.
const STDERR_SETTLE_MS = 50

/**
 * The ACP connection to one agent process (the SDK's ClientConnection over its stdio, through the
 * tap): typed requests that fail at once, with the exit status and stderr, when the agent goes away.
 */
export class AgentConnection {
  readonly #proc: AgentProcess
  readonly #conn: ClientConnection
  readonly #gone: Promise<never>

  constructor (proc: AgentProcess, app: ClientApp, tap: StreamTap) {
    this.#proc = proc
    const stdin = Writable.toWeb(proc.stdin) as WritableStream<Uint8Array>
    const stdout = Readable.toWeb(proc.stdout) as ReadableStream<Uint8Array>
    this.#conn = app.connect(tap.wrap(ndJsonStream(stdin, stdout)))
    // Why: once the agent has exited, the last messages it wrote get a moment to arrive before requests fail.
    this.#gone = proc.exited
      .then(() => Promise.race([this.#conn.closed, sleep(EXIT_DRAIN_MS)]))
      .then(() => { throw new AgentGoneError('gone') })
    this.#gone.catch(() => {})
  }

  /** One typed request to the agent (see `send`). */
  call<M extends AgentRequestMethod> (method: M, params: AgentRequestParamsByMethod[M]): Promise<AgentRequestResponsesByMethod[M]> {
    return this.send(method, () => this.#conn.agent.request(method, params))
  }

  /** A request outside the stable schema (e.g. the legacy `session/set_model`), typed by the caller. */
  callUntyped<Response, Params> (method: string, params: Params): Promise<Response> {
    return this.send(method, () => this.#conn.agent.request<Response, Params>(method, params))
  }

  /**
   * Sends a request, failing at once (with the agent's exit status and stderr) if the agent goes
   * away; an error answer becomes an Error whose `cause` is the RequestError.
   */
  async send<T> (method: string, request: () => Promise<T>): Promise<T> {
    try {
      return await Promise.race([request(), this.#gone])
    } catch (err) {
      if (err instanceof RequestError) {
        if (!lacksDetails(err.data)) throw new Error(describeRequestError(method, err), { cause: err })
        // Why: an opaque error (e.g. -32603 "Internal error") has its cause in the agent's stderr, which may arrive a moment after.
        await sleep(STDERR_SETTLE_MS)
        throw new Error(describeRequestError(method, err) + stderrHint(this.#proc.stderrTail()), { cause: err })
      }
      // Why: the SDK rejects with a bare "ACP connection closed" when the agent's output ends.
      if (this.#conn.signal.aborted || err instanceof AgentGoneError) {
        await Promise.race([this.#proc.drained, sleep(EXIT_STATUS_WAIT_MS)])
        throw new AgentGoneError(this.#proc.describeExit(`during ${method}`), { cause: err })
      }
      throw err
    }
  }

  /** Sends `session/cancel` (a notification; a failure to send is ignored: the grace and kill follow). */
  cancel (sessionId: string): void {
    this.#conn.agent.notify('session/cancel', { sessionId }).catch(() => {})
  }

  /** Closes the connection; requests still waiting are rejected. Idempotent. */
  close (): void {
    this.#conn.close()
  }
}

function describeRequestError (method: string, err: RequestError): string {
  const data = err.data as { details?: unknown } | string | undefined
  const details = typeof data === 'string' && data.trim() !== '' ? `: ${data}` : typeof data === 'object' && typeof data?.details === 'string' ? `: ${data.details}` : ''
  return `${method} failed: ${err.message}${details} (code ${err.code})`
}
