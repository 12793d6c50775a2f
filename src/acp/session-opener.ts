import { RequestError, type InitializeResponse, type McpServer, type SessionNotification } from '@agentclientprotocol/sdk'
import type { Logger } from '../logger.js'
import { withAuth, type AuthContext } from './agent-auth.js'
import type { AgentConnection } from './agent-connection.js'
import type { SessionRecorder } from './recorder.js'
import { settingRequests, settingWarning, type SessionSettings, type SettingRequest } from './session-settings.js'
import { REPLAY_META_KEY, type StreamTap } from './stream-tap.js'
import type { RunAcpOptions } from './types.js'
import { errorMessage } from '../lib/error-message.js'

/**
 * How a session is opened: a new one; `load` (history replayed; fails when the agent cannot
 * load); or `continue` a warm session whose agent was restarted: `session/resume` when offered,
 * else `session/load`, else a new session with a `history_lost` event.
 */
export type OpenHow = { how: 'new' } | { how: 'load', sessionId: string } | { how: 'continue', sessionId: string }

/** What is known of the session: the agent's `initialize` answer and the session's settings. */
export interface SessionState {
  agentInfo: unknown
  agentCapabilities: unknown
  modes: SessionSettings['modes'] | null
  models: SessionSettings['models'] | null
  configOptions: SessionSettings['configOptions'] | null
  /** The `usage` of the last prompt answer, else of the last `usage_update`; null when none came. */
  lastUsage: unknown
}

// Legacy `session/set_model` (no longer in the stable schema, still served by some agents).
interface SetModelParams { sessionId: string, modelId: string }

// Errors that mean "this session cannot be resumed or loaded" (acpx treats both so).
const SESSION_GONE_CODES = new Set([-32002, -32603])

/** What the opener needs of its session. */
export interface OpenerParts {
  cwd: string
  mcpServers: McpServer[]
  agent: () => AgentConnection
  auth: () => AuthContext
  recorder: () => SessionRecorder
  tap: () => StreamTap
  onSession: (sessionId: string) => void
  log?: Logger | undefined
}

/** Opens the ACP session (new, load, resume), applies settings, and follows its id, settings and updates. */
export class SessionOpener {
  readonly #p: OpenerParts
  #sessionId: string | null = null
  #early: SessionNotification[] = []
  #settings: SessionSettings = {}
  #lastUsage: unknown = null

  constructor (parts: OpenerParts) {
    this.#p = parts
  }

  get sessionId (): string | null { return this.#sessionId }

  state (init: InitializeResponse | null): SessionState {
    return {
      agentInfo: init?.agentInfo ?? null,
      agentCapabilities: init?.agentCapabilities ?? null,
      modes: this.#settings.modes ?? null,
      models: this.#settings.models ?? null,
      configOptions: this.#settings.configOptions ?? null,
      lastUsage: this.#lastUsage,
    }
  }

  /** Keeps a prompt answer's `usage` (an unstable ACP field) when there is one. */
  noteUsage (usage: unknown): void {
    if (usage !== undefined && usage !== null) this.#lastUsage = usage
  }

  /** session/new, or session/load (with its replay marked) or session/resume, per `how`. */
  async open (init: InitializeResponse, how: OpenHow): Promise<SessionSettings> {
    if (how.how === 'continue') return await this.#continue(init, how.sessionId)
    if (how.how === 'load' && init.agentCapabilities?.loadSession !== true) {
      throw new Error('the agent cannot load sessions (it does not advertise loadSession); leave acp_session_id out to start a new session')
    }
    return how.how === 'load' ? await this.#load(how.sessionId) : await this.#new()
  }

  async #continue (init: InitializeResponse, sessionId: string): Promise<SessionSettings> {
    const canResume = init.agentCapabilities?.sessionCapabilities?.resume != null
    const canLoad = init.agentCapabilities?.loadSession === true
    let reason = 'the agent can neither resume nor load sessions'
    if (canResume || canLoad) {
      try {
        return canResume ? await this.#resume(sessionId) : await this.#load(sessionId)
      } catch (err) {
        const cause = (err as Error).cause
        if (!(cause instanceof RequestError) || !SESSION_GONE_CODES.has(cause.code)) throw err
        reason = errorMessage(err)
        this.#sessionId = null
      }
    }
    const settings = await this.#new()
    this.#p.recorder().record('history_lost', { previousSessionId: sessionId, sessionId: this.#sessionId, reason })
    this.#p.log?.warn({ previousSessionId: sessionId, sessionId: this.#sessionId }, 'ACP session history lost: a new session was started')
    return settings
  }

  async #new (): Promise<SessionSettings> {
    const created = await withAuth(this.#p.auth(), () => this.#p.agent().call('session/new', this.#base()))
    if (typeof created?.sessionId !== 'string' || created.sessionId === '') throw new Error('the agent answered session/new without a session id')
    this.#setSession(created.sessionId)
    return this.#opened(created, false)
  }

  async #load (sessionId: string): Promise<SessionSettings> {
    this.#setSession(sessionId)
    this.#p.tap().startReplay()
    const response = (await withAuth(this.#p.auth(), () => this.#p.agent().call('session/load', { ...this.#base(), sessionId }))) ?? {}
    return this.#opened(response, true)
  }

  async #resume (sessionId: string): Promise<SessionSettings> {
    this.#setSession(sessionId)
    const response = (await withAuth(this.#p.auth(), () => this.#p.agent().call('session/resume', { ...this.#base(), sessionId }))) ?? {}
    return this.#opened(response, true, true)
  }

  #base (): { cwd: string, mcpServers: McpServer[] } {
    return { cwd: this.#p.cwd, mcpServers: this.#p.mcpServers }
  }

  #opened (response: SessionSettings, loaded: boolean, resumed = false): SessionSettings {
    this.#settings = { modes: response.modes ?? null, configOptions: response.configOptions ?? null, models: response.models ?? null }
    this.#p.recorder().record('session', {
      sessionId: this.#sessionId,
      loaded,
      ...(resumed ? { resumed } : {}),
      modes: response.modes ?? null,
      configOptions: response.configOptions ?? null,
      ...(response.models ? { models: response.models } : {}),
    })
    return response
  }

  /** Sends the requests that set the wanted model, effort and mode (none when already current). */
  async applySettings (wanted: Pick<RunAcpOptions, 'model' | 'effort' | 'mode'>, agent: AgentConnection): Promise<void> {
    for (const request of settingRequests(this.#settings, wanted)) await this.#applySetting(request, agent)
  }

  /** Sends one setting request; a refused model or effort is a `warning` event and the run goes on. */
  async #applySetting (request: SettingRequest, agent: AgentConnection): Promise<void> {
    const sessionId = this.#sessionId as string
    let configOptions: unknown
    try {
      if (request.method === 'session/set_config_option') {
        const answer = await agent.call('session/set_config_option', { sessionId, ...request.params })
        configOptions = answer?.configOptions
        if (Array.isArray(answer?.configOptions)) this.#settings.configOptions = answer.configOptions
      } else if (request.method === 'session/set_mode') {
        await agent.call('session/set_mode', { sessionId, ...request.params })
        if (this.#settings.modes) this.#settings.modes = { ...this.#settings.modes, currentModeId: request.params.modeId }
      } else {
        await agent.callUntyped<unknown, SetModelParams>(request.method, { sessionId, ...request.params })
        if (this.#settings.models) this.#settings.models = { ...this.#settings.models, currentModelId: request.params.modelId }
      }
    } catch (err) {
      if (!request.optional || !(err instanceof Error && err.cause instanceof RequestError)) throw err
      const message = settingWarning(request, err.message)
      this.#p.recorder().record('warning', { setting: request.setting, value: request.value, method: request.method, message })
      this.#p.log?.warn({ setting: request.setting }, 'the agent refused a setting; going on')
      return
    }
    this.#p.recorder().record('setting', { setting: request.setting, method: request.method, ...request.params, ...(configOptions ? { configOptions } : {}) })
  }

  #setSession (sessionId: string): void {
    this.#sessionId = sessionId
    this.#p.onSession(sessionId)
    const early = this.#early
    this.#early = []
    for (const notification of early) this.onUpdate(notification)
  }

  /** One session/update: recorded on the turn (replay marked), and kept when it changes the session's settings. */
  onUpdate (notification: SessionNotification): void {
    if (this.#sessionId === null) {
      this.#early.push(notification)
      return
    }
    if (notification.sessionId !== this.#sessionId) {
      this.#p.log?.debug({ sessionId: notification.sessionId }, 'update for another session ignored')
      return
    }
    const replay = notification._meta?.[REPLAY_META_KEY] === true
    const update = notification.update
    if (!replay) {
      if (update.sessionUpdate === 'current_mode_update' && this.#settings.modes) this.#settings.modes = { ...this.#settings.modes, currentModeId: update.currentModeId }
      if (update.sessionUpdate === 'config_option_update') this.#settings.configOptions = update.configOptions
      if (update.sessionUpdate === 'usage_update') this.#lastUsage = { ...update }
    }
    this.#p.recorder().update(update, replay)
  }
}
