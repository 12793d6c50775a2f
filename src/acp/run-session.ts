import { resolve } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  ndJsonStream, PROTOCOL_VERSION, RequestError,
  type ClientConnection, type InitializeResponse, type SessionNotification,
} from '@agentclientprotocol/sdk'
import { childEnv } from '../lib/child-env.js'
import { splitShellWords } from '../lib/shell-words.js'
import type { Logger } from '../logger.js'
import { VERSION } from '../version.js'
import { AgentGoneError, AgentProcess } from './agent-process.js'
import { buildClientApp } from './client-handlers.js'
import { FsService } from './fs-service.js'
import { Sandbox } from './paths.js'
import { PermissionBroker } from './permission-broker.js'
import { DEFAULT_PERMISSION_POLICY } from './permissions.js'
import { SessionRecorder } from './recorder.js'
import { settingRequests, type SessionSettings } from './session-settings.js'
import { REPLAY_META_KEY, StreamTap } from './stream-tap.js'
import { AcpTerminals } from './terminals.js'
import { DEFAULT_AGENT, type AcpResult, type RunAcpOptions } from './types.js'

export { DEFAULT_AGENT }
const DEFAULT_CANCEL_GRACE_MS = 5000
// After the agent exits, how long its last messages may take to arrive (Zed drains for 250 ms).
const EXIT_DRAIN_MS = 250
// After the connection closed, how long we wait to learn the agent's exit status.
const EXIT_STATUS_WAIT_MS = 1000
// At the end, how long the agent may take to exit by itself once its stdin is closed.
const STDIN_EOF_EXIT_MS = 200
const AUTH_REQUIRED = -32000

/** Why a run was ended early. */
interface StopState { kind: 'abort' | 'total' | 'idle', message: string }

const messageOf = (err: unknown): string => err instanceof Error ? err.message : String(err)

/** Runs until the process is gone (with the end of the run) and never throws: failures are in `error`. */
export async function runAcpSession (options: RunAcpOptions & { log?: Logger }): Promise<AcpResult> {
  return new AcpRun(options).run()
}

// One run: agent process, connection, session, prompt turn, and the cancel/timeout escalation.
class AcpRun {
  readonly #o: RunAcpOptions & { log?: Logger }
  readonly #recorder: SessionRecorder
  readonly #cwd: string
  readonly #env: NodeJS.ProcessEnv
  readonly #cancelGraceMs: number
  #sandbox!: Sandbox
  #terminals!: AcpTerminals
  #permissions!: PermissionBroker
  #proc: AgentProcess | null = null
  #conn: ClientConnection | null = null
  #gone: Promise<never> | null = null
  #sessionId: string | null = null
  #early: SessionNotification[] = []
  #promptInFlight = false
  #stop: StopState | null = null
  #lastActivity = Date.now()
  readonly #timers: NodeJS.Timeout[] = []
  #stopReason = 'unknown'
  #error: string | null = null

  constructor (options: RunAcpOptions & { log?: Logger }) {
    this.#o = options
    this.#recorder = new SessionRecorder(options.onEvent, options.maxEvents)
    this.#cwd = resolve(options.workdir ?? process.cwd())
    this.#env = childEnv(options.env ?? {})
    this.#cancelGraceMs = options.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS
  }

  async run (): Promise<AcpResult> {
    this.#armLimits()
    try {
      await this.#session()
    } catch (err) {
      this.#fail(err)
    } finally {
      await this.#shutdown()
    }
    if (this.#error !== null) this.#recorder.record('error', { message: this.#error })
    return {
      sessionId: this.#sessionId,
      outputText: this.#recorder.outputText,
      toolCalls: this.#recorder.toolCalls,
      events: this.#recorder.events,
      stopReason: this.#stopReason,
      stderr: this.#proc?.stderrTail() ?? '',
      error: this.#error,
      timeout: this.#stop?.kind === 'total' || this.#stop?.kind === 'idle' ? this.#stop.kind : null,
      aborted: this.#stop?.kind === 'abort',
    }
  }

  async #session (): Promise<void> {
    this.#sandbox = new Sandbox(this.#cwd)
    this.#terminals = new AcpTerminals(this.#sandbox, this.#env)
    this.#permissions = new PermissionBroker({
      policy: this.#o.permissionPolicy ?? DEFAULT_PERMISSION_POLICY,
      sandbox: this.#sandbox,
      recorder: this.#recorder,
      ask: this.#o.onPermissionRequest,
      askTimeoutMs: this.#o.permissionTimeoutMs,
    })
    const agent = this.#o.agent ?? DEFAULT_AGENT
    const argv = typeof agent === 'string' ? splitShellWords(agent) : [...agent]
    this.#proc = await AgentProcess.start({ argv, cwd: this.#cwd, env: this.#env, onStderr: this.#o.onStderr })
    this.#o.onSpawn?.(this.#proc.pid)
    if (this.#stop) throw new Error(this.#stop.message)
    this.#connect(this.#proc)

    const init = await this.#call('initialize', {
      protocolVersion: PROTOCOL_VERSION,
      clientCapabilities: { fs: { readTextFile: true, writeTextFile: true }, terminal: true },
      clientInfo: { name: 'agent-runtime', title: 'agent-runtime headless ACP client', version: VERSION },
    }) as InitializeResponse
    this.#recorder.record('initialize', {
      protocolVersion: init.protocolVersion,
      agentInfo: init.agentInfo ?? null,
      agentCapabilities: init.agentCapabilities ?? {},
      authMethods: init.authMethods ?? [],
    })
    if (init.protocolVersion !== PROTOCOL_VERSION) {
      throw new Error(`the agent answered with ACP protocol version ${JSON.stringify(init.protocolVersion)}; this client speaks version ${PROTOCOL_VERSION}`)
    }

    const settings = await this.#openSession(init)
    for (const request of settingRequests(settings, this.#o)) {
      await this.#call(request.method, { sessionId: this.#sessionId, ...request.params })
      this.#recorder.record('setting', { setting: request.setting, method: request.method, ...request.params })
    }

    const prompt = this.#o.prompt ?? ''
    if (prompt === '') {
      this.#stopReason = 'no_prompt'
      return
    }
    this.#promptInFlight = true
    const response = await this.#withAuth(init, () => this.#call('session/prompt', { sessionId: this.#sessionId, prompt: [{ type: 'text', text: prompt }] })) as { stopReason?: unknown } | null
    this.#promptInFlight = false
    const stopReason = typeof response?.stopReason === 'string' ? response.stopReason : 'unknown'
    this.#recorder.record('stop', { stopReason })
    // Why: a limit that fired ends the run as `timeout` even when the agent then stopped in time.
    const stop = this.#stop as StopState | null
    if (stop && stop.kind !== 'abort') throw new Error(stop.message)
    this.#stopReason = stopReason
  }

  /** session/new, or session/load (with its replay marked) when a session id was given. */
  async #openSession (init: InitializeResponse): Promise<SessionSettings> {
    const base = { cwd: this.#cwd, mcpServers: this.#o.mcpServers ?? [] }
    const wanted = this.#o.sessionId
    let response: SessionSettings & { sessionId?: unknown }
    if (wanted) {
      if (init.agentCapabilities?.loadSession !== true) {
        throw new Error('the agent cannot load sessions (it does not advertise loadSession); leave acp_session_id out to start a new session')
      }
      this.#setSession(wanted)
      this.#tap.startReplay()
      response = (await this.#withAuth(init, () => this.#call('session/load', { ...base, sessionId: wanted })) ?? {}) as SessionSettings
    } else {
      response = await this.#withAuth(init, () => this.#call('session/new', base)) as SessionSettings & { sessionId?: unknown }
      if (typeof response?.sessionId !== 'string' || response.sessionId === '') throw new Error('the agent answered session/new without a session id')
      this.#setSession(response.sessionId)
    }
    this.#recorder.record('session', {
      sessionId: this.#sessionId,
      loaded: Boolean(wanted),
      modes: response.modes ?? null,
      configOptions: response.configOptions ?? null,
      ...(response.models ? { models: response.models } : {}),
    })
    return response
  }

  #setSession (sessionId: string): void {
    this.#sessionId = sessionId
    this.#o.onSession?.(sessionId)
    const early = this.#early
    this.#early = []
    for (const notification of early) this.#onUpdate(notification)
  }

  readonly #tap = new StreamTap(
    () => { this.#lastActivity = Date.now() },
    (params) => this.#recorder.record('unknown_update', { ...params.update })
  )

  #connect (proc: AgentProcess): void {
    const app = buildClientApp({
      recorder: this.#recorder,
      fs: new FsService(this.#sandbox),
      terminals: this.#terminals,
      permissions: this.#permissions,
      onUpdate: (notification) => this.#onUpdate(notification),
    })
    const stdin = Writable.toWeb(proc.child.stdin) as WritableStream<Uint8Array>
    const stdout = Readable.toWeb(proc.child.stdout) as ReadableStream<Uint8Array>
    this.#conn = app.connect(this.#tap.wrap(ndJsonStream(stdin, stdout)))
    // Why: once the agent has exited, the last messages it wrote get a moment to arrive before requests fail.
    this.#gone = proc.exited
      .then(() => Promise.race([this.#conn?.closed, sleep(EXIT_DRAIN_MS)]))
      .then(() => { throw new AgentGoneError('gone') })
    this.#gone.catch(() => {})
  }

  #onUpdate (notification: SessionNotification): void {
    if (this.#sessionId === null) {
      this.#early.push(notification)
      return
    }
    if (notification.sessionId !== this.#sessionId) {
      this.#o.log?.debug({ sessionId: notification.sessionId }, 'update for another session ignored')
      return
    }
    const replay = notification._meta?.[REPLAY_META_KEY] === true
    this.#recorder.update(notification.update, replay)
  }

  /** One request to the agent, failing at once (with its exit status and stderr) if the agent goes away. */
  async #call (method: string, params: unknown): Promise<unknown> {
    const conn = this.#conn as ClientConnection
    const proc = this.#proc as AgentProcess
    try {
      return await Promise.race([conn.agent.request(method, params), this.#gone as Promise<never>])
    } catch (err) {
      if (err instanceof RequestError) throw new Error(describeRequestError(method, err), { cause: err })
      // Why: the SDK rejects with a bare "ACP connection closed" when the agent's output ends.
      if (conn.signal.aborted || err instanceof AgentGoneError) {
        await Promise.race([proc.exited, sleep(EXIT_STATUS_WAIT_MS)])
        throw new AgentGoneError(proc.describeExit(`during ${method}`), { cause: err })
      }
      throw err
    }
  }

  /**
   * Runs an agent request; on "authentication required" (-32000) authenticates once with an
   * advertised method whose credentials are in the environment (a variable named after the method
   * id, or one the method names) and retries, or fails with a clear error.
   */
  async #withAuth (init: InitializeResponse, request: () => Promise<unknown>): Promise<unknown> {
    try {
      return await request()
    } catch (err) {
      const cause = (err as Error).cause
      if (!(cause instanceof RequestError) || cause.code !== AUTH_REQUIRED) throw err
      const methods = (init.authMethods ?? []) as Array<{ id: string, type?: string, vars?: Array<{ name?: string }> }>
      const usable = methods.find((m) => (m.type === undefined || m.type === 'agent' || m.type === 'env_var') && authVars(m).some((v) => this.#env[v]))
      if (!usable) {
        const offered = methods.map((m) => m.id).join(', ') || 'none advertised'
        throw new Error(`the agent requires authentication (${cause.message}); log the agent in on this machine or pass its credentials in env (methods: ${offered})`, { cause })
      }
      await this.#call('authenticate', { methodId: usable.id })
      this.#recorder.record('authenticate', { methodId: usable.id })
      return await request()
    }
  }

  #armLimits (): void {
    const { timeoutMs = 0, idleTimeoutMs = 0, signal } = this.#o
    if (timeoutMs > 0) this.#timers.push(setTimeout(() => this.#requestStop('total', `timed out after ${timeoutMs / 1000} s`), timeoutMs))
    if (idleTimeoutMs > 0) {
      const check = (): void => {
        const idleFor = Date.now() - this.#lastActivity
        // Why: a person deciding a permission request is not the agent being idle.
        if (this.#permissions?.waiting > 0) this.#lastActivity = Date.now()
        else if (idleFor >= idleTimeoutMs) return this.#requestStop('idle', `no update from the agent for ${idleTimeoutMs / 1000} s`)
        this.#timers.push(setTimeout(check, Math.max(10, idleTimeoutMs - (Date.now() - this.#lastActivity))))
      }
      this.#timers.push(setTimeout(check, idleTimeoutMs))
    }
    if (signal) {
      const onAbort = (): void => this.#requestStop('abort', 'cancelled')
      if (signal.aborted) onAbort()
      else signal.addEventListener('abort', onAbort, { once: true })
    }
  }

  /**
   * Ends the turn early: session/cancel (when a prompt runs), pending permissions answered
   * `cancelled`, terminals killed; the agent's process group is killed if the turn has not ended
   * after the grace (at once when no prompt runs).
   */
  #requestStop (kind: 'abort' | 'total' | 'idle', message: string): void {
    if (this.#stop) return
    this.#stop = { kind, message }
    this.#recorder.record('cancel', { reason: kind === 'abort' ? 'cancelled' : 'timeout', message })
    this.#permissions?.cancelAll(message)
    const conn = this.#conn
    const cancelling = this.#promptInFlight && this.#sessionId !== null && conn !== null
    if (cancelling) conn.agent.notify('session/cancel', { sessionId: this.#sessionId as string }).catch(() => {})
    this.#terminals?.killAll().catch((err: unknown) => this.#o.log?.warn({ err }, 'killing terminals failed'))
    this.#timers.push(setTimeout(() => {
      this.#proc?.stop(this.#cancelGraceMs).catch((err: unknown) => this.#o.log?.error({ err }, 'killing the agent failed'))
    }, cancelling ? this.#cancelGraceMs : 0))
  }

  #fail (err: unknown): void {
    this.#promptInFlight = false
    const stop = this.#stop
    if (stop === null) {
      this.#stopReason = 'error'
      this.#error = messageOf(err)
      return
    }
    this.#stopReason = stop.kind === 'abort' ? 'cancelled' : 'timeout'
    const killed = err instanceof AgentGoneError && this.#proc?.exit !== null
    this.#error = killed && this.#stopReason === 'cancelled'
      ? `cancelled; the agent did not stop within ${this.#cancelGraceMs / 1000} s and was killed`
      : stop.message
  }

  /** Ends terminals, closes the connection, and makes sure the agent's whole group is gone. */
  async #shutdown (): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer)
    this.#permissions?.cancelAll('the turn has ended')
    await this.#terminals?.releaseAll().catch((err: unknown) => this.#o.log?.warn({ err }, 'ending terminals failed'))
    this.#conn?.close()
    const proc = this.#proc
    if (!proc) return
    proc.child.stdin.end()
    await Promise.race([proc.exited, sleep(STDIN_EOF_EXIT_MS)])
    await proc.stop(this.#cancelGraceMs)
  }
}

/** Names of environment variables that would hold an auth method's credentials. */
function authVars (method: { id: string, vars?: Array<{ name?: string }> }): string[] {
  const named = (method.vars ?? []).map((v) => v.name).filter((n): n is string => typeof n === 'string')
  return [method.id.toUpperCase().replace(/[^A-Z0-9]/g, '_'), ...named]
}

function describeRequestError (method: string, err: RequestError): string {
  const data = err.data as { details?: unknown } | undefined
  const details = typeof data?.details === 'string' ? `: ${data.details}` : ''
  return `${method} failed: ${err.message}${details} (code ${err.code})`
}
