import { resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { PROTOCOL_VERSION, type InitializeResponse, type PromptResponse } from '@agentclientprotocol/sdk'
import { childEnv } from '../lib/child-env.js'
import type { Logger } from '../logger.js'
import { VERSION } from '../version.js'
import { withAuth, type AuthContext } from './agent-auth.js'
import { AgentConnection } from './agent-connection.js'
import { AgentProcess } from './agent-process.js'
import { resolveAgent, type AgentLaunch } from './agent-registry.js'
import { clientCapabilitiesFor } from './capabilities.js'
import { buildClientApp } from './client-handlers.js'
import { FsService } from './fs-service.js'
import { planForSession } from './mode-policy.js'
import { Sandbox } from './paths.js'
import type { SessionRecorder } from './recorder.js'
import { SessionOpener, type OpenHow, type SessionState } from './session-opener.js'
import type { SessionSettings } from './session-settings.js'
import { StreamTap } from './stream-tap.js'
import { idleTurnParts, type TurnParts } from './turn-parts.js'
import { DEFAULT_AGENT, type RunAcpOptions } from './types.js'

export type { OpenHow, SessionState, TurnParts }
// At the end, how long the agent may take to exit by itself once its stdin is closed.
const STDIN_EOF_EXIT_MS = 200
// DELETE of a warm session: how long `session/close` may take before the agent is ended anyway.
const SESSION_CLOSE_WAIT_MS = 2000
const DEFAULT_CANCEL_GRACE_MS = 5000
// After the agent's group is gone, how long its stderr may take to be read to its end.
const STDERR_DRAIN_MS = 1000

/** What a warm session is started with (the agent, where it works, and what the session gets). */
export type AgentSessionOptions = Pick<RunAcpOptions, 'agent' | 'agents' | 'capabilities' | 'workdir' | 'env' | 'mcpServers' | 'cancelGraceMs'> & { log?: Logger | undefined }

/** What a session is opened with: the wanted settings, and the policy that may need an asking mode. */
export type OpenWanted = Pick<RunAcpOptions, 'model' | 'effort' | 'mode'> & { permissionPolicy?: RunAcpOptions['permissionPolicy'] | undefined }

/**
 * One agent process and its ACP session, kept open across prompt turns: spawn, connection,
 * `initialize`, `session/new|load|resume` and settings. The agent's requests go to the turn that
 * is attached (`attach`), one at a time. `close()` ends the process tree.
 */
export class AgentSession {
  readonly cwd: string
  readonly env: NodeJS.ProcessEnv
  readonly cancelGraceMs: number
  readonly #o: AgentSessionOptions
  readonly #opener: SessionOpener
  #sandbox: Sandbox | null = null
  #idle: TurnParts | null = null
  #turn: TurnParts | null = null
  #proc: AgentProcess | null = null
  #conn: AgentConnection | null = null
  #init: InitializeResponse | null = null
  #auth: AuthContext | null = null
  #launch: AgentLaunch | null = null

  constructor (options: AgentSessionOptions) {
    this.#o = options
    this.cwd = resolve(options.workdir ?? process.cwd())
    this.env = childEnv(options.env ?? {})
    this.cancelGraceMs = options.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS
    this.#opener = new SessionOpener({
      cwd: this.cwd,
      mcpServers: options.mcpServers ?? [],
      agent: () => this.#agent,
      auth: () => this.#auth as AuthContext,
      recorder: () => this.#current.recorder,
      tap: () => this.#tap,
      onSession: (sessionId) => this.#current.onSession(sessionId),
      log: options.log,
    })
  }

  /** The directory files and terminals are confined to (resolved on first use; throws when it does not exist). */
  get sandbox (): Sandbox {
    this.#sandbox ??= new Sandbox(this.cwd)
    return this.#sandbox
  }

  get pid (): number | null { return this.#proc?.pid ?? null }
  get sessionId (): string | null { return this.#opener.sessionId }
  /** What the agent said in `initialize`, and the session's modes, models, config options and last usage. */
  get state (): SessionState { return this.#opener.state(this.#init) }
  /** True while the agent process runs. */
  get alive (): boolean { return this.#proc !== null && this.#proc.exit === null }
  /** True once the agent process has exited (false before it started). */
  get exited (): boolean { return this.#proc?.exit != null }
  /** Resolves when the agent process has exited (at once when it never started). */
  get ended (): Promise<unknown> { return this.#proc?.exited ?? Promise.resolve() }
  /** The end of what the agent wrote to stderr. */
  stderrTail (): string { return this.#proc?.stderrTail() ?? '' }

  /** Routes the agent's requests and updates to `turn`; throws when another turn is attached. */
  attach (turn: TurnParts): void {
    if (this.#turn !== null && this.#turn !== turn) throw new Error('the ACP session already runs a turn')
    this.#turn = turn
  }

  /** Routes the agent's requests and updates back to the idle sink, if `turn` is the attached one. */
  detach (turn: TurnParts): void {
    if (this.#turn === turn) this.#turn = null
  }

  /** Starts the agent process and sends `initialize` (recorded on the attached turn). */
  async start (): Promise<void> {
    const launch = this.#launch = resolveAgent(this.#o.agent ?? DEFAULT_AGENT, this.#o.agents)
    this.#proc = await AgentProcess.start({ argv: launch.argv, cwd: this.cwd, env: { ...launch.env, ...this.env }, onStderr: (chunk) => this.#current.onStderr(chunk), log: this.#o.log })
    this.#current.spawned(this.#proc.pid)
    this.#connect(this.#proc)

    const init = await this.#agent.call('initialize', {
      protocolVersion: PROTOCOL_VERSION,
      clientCapabilities: clientCapabilitiesFor(this.#o.capabilities),
      clientInfo: { name: 'agent-runtime', title: 'agent-runtime headless ACP client', version: VERSION },
    })
    this.#init = init
    this.#recorder.record('initialize', {
      protocolVersion: init.protocolVersion,
      agentInfo: init.agentInfo ?? null,
      agentCapabilities: init.agentCapabilities ?? {},
      authMethods: init.authMethods ?? [],
    })
    if (init.protocolVersion !== PROTOCOL_VERSION) {
      throw new Error(`the agent answered with ACP protocol version ${JSON.stringify(init.protocolVersion)}; this client speaks version ${PROTOCOL_VERSION}`)
    }
    this.#auth = {
      methods: init.authMethods ?? [],
      env: this.env,
      authenticate: async (methodId) => {
        await this.#agent.call('authenticate', { methodId })
        this.#recorder.record('authenticate', { methodId })
      },
    }
  }

  /**
   * session/new, load or resume (see `OpenHow`), then the wanted model, effort and mode — or,
   * when no mode is wanted and the policy needs one, a mode that asks (mode-policy.ts).
   */
  async open (how: OpenHow, wanted: OpenWanted): Promise<SessionSettings> {
    const init = this.#init as InitializeResponse
    const settings = await this.#opener.open(init, how)
    // Why planned even when a mode is wanted: an auto-approving wanted mode gets a warning event.
    const planned = this.#planMode(settings, init, wanted)
    const mode = wanted.mode || planned
    await this.applySettings({ ...wanted, mode })
    return settings
  }

  /** Chooses a mode that asks when the policy needs one, and records why; null: leave the mode. */
  #planMode (settings: SessionSettings, init: InitializeResponse, wanted: OpenWanted): string | null {
    const plan = planForSession(this.#launch as AgentLaunch, init.agentInfo?.name ?? undefined, settings, wanted)
    for (const event of plan.events) {
      this.#recorder.record(event.type, event.data)
      if (event.data.code === 'policy_not_enforceable') this.#o.log?.warn({ agent: plan.agentName }, 'the permission policy cannot be enforced for this agent')
    }
    return plan.mode
  }

  /** Sends the requests that set the wanted model, effort and mode (none when already current). */
  async applySettings (wanted: Pick<RunAcpOptions, 'model' | 'effort' | 'mode'>): Promise<void> {
    await this.#opener.applySettings(wanted, this.#agent)
  }

  /** Tells the attached turn what it runs on, when the agent was already running before it. */
  reattach (): void {
    const proc = this.#proc
    if (proc === null || this.sessionId === null) throw new Error('the agent is not running')
    this.#current.spawned(proc.pid)
    this.#current.onSession(this.sessionId)
  }

  /** One `session/prompt` with text (authenticating once when the agent asks for it). */
  async prompt (text: string): Promise<PromptResponse> {
    const sessionId = this.sessionId as string
    const response = await withAuth(this.#auth as AuthContext, () => this.#agent.call('session/prompt', { sessionId, prompt: [{ type: 'text', text }] }))
    this.#opener.noteUsage((response as { usage?: unknown } | null)?.usage)
    return response
  }

  /** Sends `session/cancel` (when there is a session and a connection). */
  cancel (): void {
    if (this.#conn !== null && this.sessionId !== null) this.#conn.cancel(this.sessionId)
  }

  /** Ends the agent's process group (TERM, KILL after `graceMs`). */
  async kill (graceMs: number): Promise<void> {
    await this.#proc?.stop(graceMs)
  }

  /**
   * Ends the agent: `session/close` first when asked and offered, then the connection, stdin (a
   * moment to exit by itself) and the whole process group. Idempotent.
   */
  async close (options: { closeSession?: boolean } = {}): Promise<void> {
    if (options.closeSession === true && this.alive && this.#conn !== null) await this.#closeSession()
    await this.#idle?.terminals.releaseAll().catch((err: unknown) => this.#o.log?.warn({ err }, 'ending terminals failed'))
    this.#conn?.close()
    const proc = this.#proc
    if (!proc) return
    proc.stdin.end()
    await Promise.race([proc.exited, sleep(STDIN_EOF_EXIT_MS)])
    await proc.stop(this.cancelGraceMs)
    // Why: the exit can come before the last stderr chunk is read, and that chunk belongs to the
    // job's stderr file; bounded, as a grandchild outside the group may hold the pipe open.
    await Promise.race([proc.drained, sleep(STDERR_DRAIN_MS)])
  }

  async #closeSession (): Promise<void> {
    const sessionId = this.sessionId
    if (sessionId === null || this.#init?.agentCapabilities?.sessionCapabilities?.close == null) return
    const request = this.#agent.call('session/close', { sessionId }).catch((err: unknown) => this.#o.log?.warn({ err }, 'session/close failed'))
    await Promise.race([request, sleep(SESSION_CLOSE_WAIT_MS)])
  }

  readonly #tap = new StreamTap(
    () => this.#current.touch(),
    (params) => this.#current.recorder.record('unknown_update', { ...params.update })
  )

  #connect (proc: AgentProcess): void {
    const session = this
    this.#tap.observe((from, message) => this.#current.onTranscript(from, message))
    const app = buildClientApp({
      capabilities: this.#o.capabilities,
      get recorder () { return session.#current.recorder },
      fs: new FsService(this.sandbox),
      get terminals () { return session.#current.terminals },
      get permissions () { return session.#current.permissions },
      onUpdate: (notification) => this.#opener.onUpdate(notification),
    })
    this.#conn = new AgentConnection(proc, app, this.#tap)
  }

  get #agent (): AgentConnection {
    return this.#conn as AgentConnection
  }

  get #recorder (): SessionRecorder {
    return this.#current.recorder
  }

  get #current (): TurnParts {
    if (this.#turn) return this.#turn
    // Why lazily: the idle sink resolves the sandbox, which throws when the workdir does not exist.
    this.#idle ??= idleTurnParts(this.sandbox, this.env, this.#o.log)
    return this.#idle
  }
}
