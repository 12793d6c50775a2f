import { resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { PROTOCOL_VERSION, RequestError, type InitializeResponse, type SessionNotification } from '@agentclientprotocol/sdk'
import { childEnv } from '../lib/child-env.js'
import { isPlainObject } from '../lib/json-values.js'
import { setLongTimeout, type LongTimer } from '../lib/long-timer.js'
import type { Logger } from '../logger.js'
import { VERSION } from '../version.js'
import { withAuth, type AuthContext } from './agent-auth.js'
import { AgentConnection } from './agent-connection.js'
import { AgentGoneError, AgentProcess } from './agent-process.js'
import { knownAgentOf, resolveAgent, type AgentLaunch } from './agent-registry.js'
import { clientCapabilitiesFor } from './capabilities.js'
import { buildClientApp } from './client-handlers.js'
import { FsService } from './fs-service.js'
import { planPermissionMode } from './mode-policy.js'
import { Sandbox } from './paths.js'
import { PermissionBroker } from './permission-broker.js'
import { DEFAULT_PERMISSION_POLICY } from './permissions.js'
import { SessionRecorder } from './recorder.js'
import { RunLimits, type RunStop } from './run-limits.js'
import { settingRequests, settingWarning, type SessionSettings, type SettingRequest } from './session-settings.js'
import { REPLAY_META_KEY, StreamTap } from './stream-tap.js'
import { AcpTerminals } from './terminals.js'
import { DEFAULT_AGENT, type AcpLiveView, type AcpResult, type RunAcpOptions } from './types.js'

export { DEFAULT_AGENT }
const DEFAULT_CANCEL_GRACE_MS = 5000
// At the end, how long the agent may take to exit by itself once its stdin is closed.
const STDIN_EOF_EXIT_MS = 200

// Legacy `session/set_model` (no longer in the stable schema, still served by some agents).
interface SetModelParams { sessionId: string, modelId: string }

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
  readonly #limits: RunLimits
  #sandbox!: Sandbox
  #terminals!: AcpTerminals
  #permissions: PermissionBroker | null = null
  #proc: AgentProcess | null = null
  #conn: AgentConnection | null = null
  #sessionId: string | null = null
  #early: SessionNotification[] = []
  #promptInFlight = false
  #promptSent = false
  #launch: AgentLaunch | null = null
  #usage: Record<string, unknown> | null = null
  #killTimer: LongTimer | null = null
  #stopReason = 'unknown'
  #error: string | null = null

  constructor (options: RunAcpOptions & { log?: Logger }) {
    this.#o = options
    this.#recorder = new SessionRecorder(options.onEvent, options.maxEvents)
    this.#cwd = resolve(options.workdir ?? process.cwd())
    this.#env = childEnv(options.env ?? {})
    this.#cancelGraceMs = options.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS
    this.#limits = new RunLimits({
      timeoutMs: options.timeoutMs,
      idleTimeoutMs: options.idleTimeoutMs,
      signal: options.signal,
      paused: () => (this.#permissions?.waiting ?? 0) > 0,
    })
  }

  async run (): Promise<AcpResult> {
    this.#o.onLive?.(this.#liveView())
    const onStop = (): void => this.#onStop(this.#limits.stop as RunStop)
    if (this.#limits.signal.aborted) onStop()
    else this.#limits.signal.addEventListener('abort', onStop, { once: true })
    try {
      await this.#session()
    } catch (err) {
      this.#fail(err)
    } finally {
      this.#limits.signal.removeEventListener('abort', onStop)
      await this.#shutdown()
    }
    if (this.#error !== null) this.#recorder.record('error', { message: this.#error })
    const stop = this.#limits.stop
    return {
      sessionId: this.#sessionId,
      outputText: this.#recorder.outputText,
      toolCalls: this.#recorder.toolCalls,
      events: this.#recorder.events,
      stopReason: this.#stopReason,
      stderr: this.#proc?.stderrTail() ?? '',
      usage: this.#usage,
      error: this.#error,
      timeout: stop?.kind === 'total' || stop?.kind === 'idle' ? stop.kind : null,
      aborted: stop?.kind === 'abort',
    }
  }

  #liveView (): AcpLiveView {
    const run = this
    const recorder = this.#recorder
    return {
      get sessionId () { return run.#sessionId },
      get toolCalls () { return recorder.toolCalls },
      get outputText () { return recorder.outputText },
    }
  }

  async #session (): Promise<void> {
    this.#sandbox = new Sandbox(this.#cwd)
    this.#terminals = new AcpTerminals(this.#sandbox, this.#env, this.#o.sessionTerminals, this.#o.log)
    this.#permissions = new PermissionBroker({
      policy: this.#o.permissionPolicy ?? DEFAULT_PERMISSION_POLICY,
      sandbox: this.#sandbox,
      recorder: this.#recorder,
      ask: this.#o.onPermissionRequest,
      askTimeoutMs: this.#o.permissionTimeoutMs,
    })
    const launch = this.#launch = resolveAgent(this.#o.agent ?? DEFAULT_AGENT, this.#o.agents)
    this.#proc = await AgentProcess.start({ argv: launch.argv, cwd: this.#cwd, env: { ...launch.env, ...this.#env }, onStderr: this.#o.onStderr, log: this.#o.log })
    this.#o.onSpawn?.(this.#proc.pid)
    // Why: the idle clock measures the agent's silence, not how long it took us to start it.
    this.#limits.touch()
    this.#throwIfStopped()
    this.#connect(this.#proc)

    const init = await this.#agent.call('initialize', {
      protocolVersion: PROTOCOL_VERSION,
      clientCapabilities: clientCapabilitiesFor(this.#o.capabilities),
      clientInfo: { name: 'agent-runtime', title: 'agent-runtime headless ACP client', version: VERSION },
    })
    this.#recorder.record('initialize', {
      protocolVersion: init.protocolVersion,
      agentInfo: init.agentInfo ?? null,
      agentCapabilities: init.agentCapabilities ?? {},
      authMethods: init.authMethods ?? [],
    })
    if (init.protocolVersion !== PROTOCOL_VERSION) {
      throw new Error(`the agent answered with ACP protocol version ${JSON.stringify(init.protocolVersion)}; this client speaks version ${PROTOCOL_VERSION}`)
    }
    const auth: AuthContext = {
      methods: init.authMethods ?? [],
      env: this.#env,
      authenticate: async (methodId) => {
        await this.#agent.call('authenticate', { methodId })
        this.#recorder.record('authenticate', { methodId })
      },
    }

    const settings = await this.#openSession(init, auth)
    const planned = this.#planMode(settings, init)
    const mode = this.#o.mode || planned
    for (const request of settingRequests(settings, { ...this.#o, mode })) await this.#applySetting(request)

    const prompt = this.#o.prompt ?? ''
    if (prompt === '') {
      this.#stopReason = 'no_prompt'
      return
    }
    const sessionId = this.#sessionId as string
    // Why: a cancel during the set-up must not still send the prompt.
    this.#throwIfStopped()
    this.#promptInFlight = true
    this.#promptSent = true
    const response = await withAuth(auth, () => this.#agent.call('session/prompt', { sessionId, prompt: [{ type: 'text', text: prompt }] }))
    this.#promptInFlight = false
    const stopReason = typeof response?.stopReason === 'string' ? response.stopReason : 'unknown'
    // Why the cast: `usage` is unstable ACP (not in the v1 type), but agents send it.
    const usage = (response as { usage?: unknown } | null)?.usage
    this.#usage = isPlainObject(usage) ? usage : null
    this.#recorder.record('stop', { stopReason, ...(this.#usage ? { usage: this.#usage } : {}) })
    // Why: a limit that fired ends the run as `timeout` even when the agent then stopped in time.
    const stop = this.#limits.stop
    if (stop && stop.kind !== 'abort') throw new Error(stop.message)
    this.#stopReason = stopReason
  }

  #throwIfStopped (): void {
    const stop = this.#limits.stop
    if (stop) throw new Error(stop.message)
  }

  /** session/new, or session/load (with its replay marked) when a session id was given. */
  async #openSession (init: InitializeResponse, auth: AuthContext): Promise<SessionSettings> {
    const base = { cwd: this.#cwd, mcpServers: this.#o.mcpServers ?? [] }
    const wanted = this.#o.sessionId
    let response: SessionSettings
    if (wanted) {
      if (init.agentCapabilities?.loadSession !== true) {
        throw new Error('the agent cannot load sessions (it does not advertise loadSession); leave acp_session_id out to start a new session')
      }
      this.#setSession(wanted)
      this.#tap.startReplay()
      response = (await withAuth(auth, () => this.#agent.call('session/load', { ...base, sessionId: wanted }))) ?? {}
    } else {
      const created = await withAuth(auth, () => this.#agent.call('session/new', base))
      if (typeof created?.sessionId !== 'string' || created.sessionId === '') throw new Error('the agent answered session/new without a session id')
      this.#setSession(created.sessionId)
      response = created
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

  /** Chooses a mode that asks when the policy needs one, and records why (mode-policy.ts); null: leave the mode. */
  #planMode (settings: SessionSettings, init: InitializeResponse): string | null {
    const launch = this.#launch as AgentLaunch
    const agentName = init.agentInfo?.name ?? launch.known?.name ?? launch.argv[0] ?? 'the agent'
    const plan = planPermissionMode({
      policy: this.#o.permissionPolicy ?? DEFAULT_PERMISSION_POLICY,
      requested: this.#o.mode,
      session: settings,
      agent: launch.known ?? knownAgentOf([], init.agentInfo?.name),
      agentName,
    })
    for (const event of plan.events) {
      this.#recorder.record(event.type, event.data)
      if (event.data.code === 'policy_not_enforceable') this.#o.log?.warn({ agent: agentName }, 'the permission policy cannot be enforced for this agent')
    }
    return plan.mode
  }

  /** Sends one setting request; a refused model or effort is a `warning` event and the run goes on. */
  async #applySetting (request: SettingRequest): Promise<void> {
    const sessionId = this.#sessionId as string
    let configOptions: unknown
    try {
      if (request.method === 'session/set_config_option') {
        configOptions = (await this.#agent.call('session/set_config_option', { sessionId, ...request.params }))?.configOptions
      } else if (request.method === 'session/set_mode') {
        await this.#agent.call('session/set_mode', { sessionId, ...request.params })
      } else {
        await this.#agent.callUntyped<unknown, SetModelParams>(request.method, { sessionId, ...request.params })
      }
    } catch (err) {
      if (!request.optional || !(err instanceof Error && err.cause instanceof RequestError)) throw err
      const message = settingWarning(request, err.message)
      this.#recorder.record('warning', { setting: request.setting, value: request.value, method: request.method, message })
      this.#o.log?.warn({ setting: request.setting }, 'the agent refused a setting; going on')
      return
    }
    this.#recorder.record('setting', { setting: request.setting, method: request.method, ...request.params, ...(configOptions ? { configOptions } : {}) })
  }

  #setSession (sessionId: string): void {
    this.#sessionId = sessionId
    this.#o.onSession?.(sessionId)
    const early = this.#early
    this.#early = []
    for (const notification of early) this.#onUpdate(notification)
  }

  readonly #tap = new StreamTap(
    () => this.#limits.touch(),
    (params) => this.#recorder.record('unknown_update', { ...params.update })
  )

  #connect (proc: AgentProcess): void {
    const onTranscript = this.#o.onTranscript
    if (onTranscript) this.#tap.observe(onTranscript)
    const app = buildClientApp({
      capabilities: this.#o.capabilities,
      recorder: this.#recorder,
      fs: new FsService(this.#sandbox),
      terminals: this.#terminals,
      permissions: this.#permissions as PermissionBroker,
      onUpdate: (notification) => this.#onUpdate(notification),
    })
    this.#conn = new AgentConnection(proc, app, this.#tap)
  }

  get #agent (): AgentConnection {
    return this.#conn as AgentConnection
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

  /**
   * A limit fired or the caller cancelled: session/cancel (when a prompt runs), pending
   * permissions answered `cancelled`, terminals killed; the agent's process group is killed if the
   * turn has not ended after the grace (at once when no prompt runs).
   */
  #onStop (stop: RunStop): void {
    try {
      this.#recorder.record('cancel', { reason: stop.kind === 'abort' ? 'cancelled' : 'timeout', message: stop.message })
      this.#permissions?.cancelAll(stop.message)
      const conn = this.#conn
      const cancelling = this.#promptInFlight && this.#sessionId !== null && conn !== null
      if (cancelling) conn.cancel(this.#sessionId as string)
      this.#terminals?.killAll().catch((err: unknown) => this.#o.log?.warn({ err }, 'killing terminals failed'))
      this.#killTimer = setLongTimeout(() => {
        this.#proc?.stop(this.#cancelGraceMs).catch((err: unknown) => this.#o.log?.error({ err }, 'killing the agent failed'))
      }, cancelling ? this.#cancelGraceMs : 0)
    } catch (err) {
      this.#o.log?.error({ err }, 'stopping the ACP run failed')
    }
  }

  #fail (err: unknown): void {
    this.#promptInFlight = false
    const stop = this.#limits.stop
    if (stop === null) {
      this.#stopReason = 'error'
      this.#error = messageOf(err)
      return
    }
    this.#stopReason = stop.kind === 'abort' ? 'cancelled' : 'timeout'
    if (stop.kind === 'abort' && !this.#promptSent) {
      this.#error = 'cancelled before the prompt was sent; the agent was stopped'
      return
    }
    const killed = err instanceof AgentGoneError && this.#proc?.exit !== null
    this.#error = killed && this.#stopReason === 'cancelled'
      ? `cancelled; the agent did not stop within ${this.#cancelGraceMs / 1000} s and was killed`
      : stop.message
  }

  /** Ends terminals, closes the connection, and makes sure the agent's whole group is gone. */
  async #shutdown (): Promise<void> {
    this.#limits.close()
    this.#killTimer?.clear()
    this.#permissions?.cancelAll('the turn has ended')
    await this.#terminals?.releaseAll().catch((err: unknown) => this.#o.log?.warn({ err }, 'ending terminals failed'))
    this.#conn?.close()
    const proc = this.#proc
    if (!proc) return
    proc.stdin.end()
    await Promise.race([proc.exited, sleep(STDIN_EOF_EXIT_MS)])
    await proc.stop(this.#cancelGraceMs)
  }
}
