import { isPlainObject } from '../lib/json-values.js'
import { setLongTimeout, type LongTimer } from '../lib/long-timer.js'
import type { Logger } from '../logger.js'
import { AgentGoneError } from './agent-process.js'
import type { AgentSession, TurnParts } from './agent-session.js'
import { PermissionBroker } from './permission-broker.js'
import { DEFAULT_PERMISSION_POLICY } from './permissions.js'
import { SessionRecorder } from './recorder.js'
import { RunLimits, type RunStop } from './run-limits.js'
import type { MessageSender } from './stream-tap.js'
import { AcpTerminals } from './terminals.js'
import type { AcpLiveView, AcpResult, RunAcpOptions } from './types.js'
import { errorMessage } from '../lib/error-message.js'

/** What a turn runs with: the run options (the agent, workdir and session belong to its AgentSession). */
export type TurnOptions = RunAcpOptions & { log?: Logger | undefined }

/**
 * One prompt turn on an AgentSession: its recorder, limits, permission broker and terminals, the
 * `session/prompt` itself, and the cancel/timeout escalation (session/cancel, grace, group kill).
 */
export class AcpTurn implements TurnParts {
  readonly #o: TurnOptions
  readonly #session: AgentSession
  readonly #recorder: SessionRecorder
  readonly #cancelGraceMs: number
  readonly #limits: RunLimits
  #terminals!: AcpTerminals
  #permissions: PermissionBroker | null = null
  #sessionId: string | null = null
  #promptInFlight = false
  #promptSent = false
  #usage: Record<string, unknown> | null = null
  #killTimer: LongTimer | null = null
  #stopReason = 'unknown'
  #error: string | null = null

  constructor (session: AgentSession, options: TurnOptions) {
    this.#o = options
    this.#session = session
    this.#recorder = new SessionRecorder(options.onEvent, options.maxEvents)
    this.#cancelGraceMs = session.cancelGraceMs
    this.#limits = new RunLimits({
      timeoutMs: options.timeoutMs,
      idleTimeoutMs: options.idleTimeoutMs,
      signal: options.signal,
      paused: () => (this.#permissions?.waiting ?? 0) > 0,
    })
  }

  get recorder (): SessionRecorder { return this.#recorder }
  get terminals (): AcpTerminals { return this.#terminals }
  get permissions (): PermissionBroker { return this.#permissions as PermissionBroker }
  touch (): void { this.#limits.touch() }
  onStderr (chunk: Buffer): void { this.#o.onStderr?.(chunk) }
  onTranscript (from: MessageSender, message: unknown): void { this.#o.onTranscript?.(from, message) }

  spawned (pid: number): void {
    this.#o.onSpawn?.(pid)
    // Why: the idle clock measures the agent's silence, not how long it took us to start it.
    this.#limits.touch()
    this.#throwIfStopped()
  }

  onSession (sessionId: string): void {
    this.#sessionId = sessionId
    this.#o.onSession?.(sessionId)
  }

  /**
   * Attaches to the session, runs `open` (whatever the session needs before the prompt: start the
   * agent, open or resume the session, settings), then the prompt; after the turn's own clean-up,
   * `close` (end the agent, or keep it warm). Never throws: failures are in `error`.
   */
  async run (open: () => Promise<void>, close: () => Promise<void>): Promise<AcpResult> {
    this.#o.onLive?.(this.#liveView())
    const onStop = (): void => this.#onStop(this.#limits.stop as RunStop)
    if (this.#limits.signal.aborted) onStop()
    else this.#limits.signal.addEventListener('abort', onStop, { once: true })
    try {
      this.#setUp()
      await open()
      await this.#prompt()
    } catch (err) {
      this.#fail(err)
    } finally {
      this.#limits.signal.removeEventListener('abort', onStop)
      await this.#finish()
      // Why detached only after `close`: what the agent writes while it ends still belongs to this turn.
      await close()
      this.#session.detach(this)
    }
    if (this.#error !== null) this.#recorder.record('error', { message: this.#error })
    const stop = this.#limits.stop
    return {
      sessionId: this.#sessionId,
      outputText: this.#recorder.outputText,
      toolCalls: this.#recorder.toolCalls,
      events: this.#recorder.events,
      stopReason: this.#stopReason,
      stderr: this.#session.stderrTail(),
      usage: this.#usage,
      error: this.#error,
      timeout: stop?.kind === 'total' || stop?.kind === 'idle' ? stop.kind : null,
      aborted: stop?.kind === 'abort',
    }
  }

  #liveView (): AcpLiveView {
    const turn = this
    const recorder = this.#recorder
    return {
      get sessionId () { return turn.#sessionId },
      get toolCalls () { return recorder.toolCalls },
      get outputText () { return recorder.outputText },
    }
  }

  #setUp (): void {
    const sandbox = this.#session.sandbox
    this.#terminals = new AcpTerminals(sandbox, this.#session.env, this.#o.sessionTerminals, this.#o.log)
    this.#permissions = new PermissionBroker({
      policy: this.#o.permissionPolicy ?? DEFAULT_PERMISSION_POLICY,
      sandbox,
      recorder: this.#recorder,
      ask: this.#o.onPermissionRequest,
      askTimeoutMs: this.#o.permissionTimeoutMs,
    })
    this.#session.attach(this)
  }

  async #prompt (): Promise<void> {
    const prompt = this.#o.prompt ?? ''
    if (prompt === '') {
      this.#stopReason = 'no_prompt'
      return
    }
    // Why: a cancel during the set-up must not still send the prompt.
    this.#throwIfStopped()
    this.#promptInFlight = true
    this.#promptSent = true
    const response = await this.#session.prompt(prompt)
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

  /**
   * A limit fired or the caller cancelled: session/cancel (when a prompt runs), pending
   * permissions answered `cancelled`, terminals killed; the agent's process group is killed if the
   * turn has not ended after the grace (at once when no prompt runs).
   */
  #onStop (stop: RunStop): void {
    try {
      this.#recorder.record('cancel', { reason: stop.kind === 'abort' ? 'cancelled' : 'timeout', message: stop.message })
      this.#permissions?.cancelAll(stop.message)
      const cancelling = this.#promptInFlight && this.#session.sessionId !== null
      if (cancelling) this.#session.cancel()
      this.#terminals?.killAll().catch((err: unknown) => this.#o.log?.warn({ err }, 'killing terminals failed'))
      this.#killTimer = setLongTimeout(() => {
        this.#session.kill(this.#cancelGraceMs).catch((err: unknown) => this.#o.log?.error({ err }, 'killing the agent failed'))
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
      this.#error = errorMessage(err)
      return
    }
    this.#stopReason = stop.kind === 'abort' ? 'cancelled' : 'timeout'
    if (stop.kind === 'abort' && !this.#promptSent) {
      this.#error = 'cancelled before the prompt was sent; the agent was stopped'
      return
    }
    const killed = err instanceof AgentGoneError && this.#session.exited
    this.#error = killed && this.#stopReason === 'cancelled'
      ? `cancelled; the agent did not stop within ${this.#cancelGraceMs / 1000} s and was killed`
      : stop.message
  }

  /** The turn's own end: clocks stopped, waiting permissions answered, its terminals ended. */
  async #finish (): Promise<void> {
    this.#limits.close()
    this.#killTimer?.clear()
    this.#permissions?.cancelAll('the turn has ended')
    await this.#terminals?.releaseAll().catch((err: unknown) => this.#o.log?.warn({ err }, 'ending terminals failed'))
  }
}
