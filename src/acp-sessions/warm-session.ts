import type { AgentSession } from '../acp/agent-session.js'
import type { AcpTurn, TurnOptions } from '../acp/turn.js'
import type { AcpResult } from '../acp/types.js'
import { acpRunOptions } from '../jobs/acp-run-options.js'
import type { JobRecord } from '../jobs/types.js'
import { processStartTime } from '../exec/process-group.js'
import { nowSeconds } from '../lib/clock.js'
import { setLongTimeout, type LongTimer } from '../lib/long-timer.js'
import type { Logger } from '../logger.js'
import type { AcpSessionRecord, AcpSessionStatus } from './types.js'

// History entries a session keeps (the jobs keep the rest).
const MAX_TURNS = 1000
// Events of a session's opening kept for its view (they are few unless an agent chatters).
const MAX_OPENING_EVENTS = 50

interface AcpModule { AgentSession: typeof AgentSession, AcpTurn: typeof AcpTurn }
// Why lazy: the ACP SDK and zod are loaded at the first ACP session, not at server start.
const loadAcp = async (): Promise<AcpModule> => {
  const [session, turn] = await Promise.all([import('../acp/agent-session.js'), import('../acp/turn.js')])
  return { AgentSession: session.AgentSession, AcpTurn: turn.AcpTurn }
}

/** What a warm session needs from its registry. */
export interface WarmSessionHost {
  /** An idle agent is ended after this long; 0 = never. */
  idleTtlMs: number
  killGraceMs: number
  /** ACP agents by name over the built-in table (`--acp-agents`). */
  agents?: Readonly<Record<string, string>> | undefined
  log: Logger
  /** The record changed: save the registry. */
  changed: () => void
}

/** A result for a turn that could not run at all. */
export function failedTurn (error: string): AcpResult {
  return { sessionId: null, outputText: '', toolCalls: [], events: [], stopReason: 'error', stderr: '', error, timeout: null, aborted: false }
}

/**
 * One warm ACP session: its agent (kept running between turns, ended after the idle TTL and
 * started again, resuming the session, by the next turn) and its turns, one at a time.
 */
export class WarmSession {
  readonly record: AcpSessionRecord
  readonly #host: WarmSessionHost
  #agent: AgentSession | null = null
  #runningJob: string | null = null
  #turnEnded: Promise<void> = Promise.resolve()
  #closed = false
  #idleTimer: LongTimer | null = null
  #stopping: Promise<void> = Promise.resolve()

  constructor (record: AcpSessionRecord, host: WarmSessionHost) {
    this.record = record
    this.#host = host
  }

  get status (): AcpSessionStatus { return this.#closed ? 'closed' : this.#runningJob !== null ? 'busy' : 'idle' }
  get closed (): boolean { return this.#closed }
  /** The job whose turn runs now. */
  get runningJob (): string | null { return this.#runningJob }
  /** The agent's pid while it runs. */
  get pid (): number | null { return this.#agent?.alive === true ? this.#agent.pid : null }
  /** Resolves once no turn runs. */
  get turnEnded (): Promise<void> { return this.#turnEnded }

  /** Starts the agent and opens the session (new, or `session/load` of the spec's acp_session_id) as a turn without a prompt. */
  async open (options: TurnOptions): Promise<AcpResult> {
    const { AgentSession, AcpTurn } = await loadAcp()
    const agent = new AgentSession(options)
    let opened = false
    const turn = new AcpTurn(agent, { ...options, prompt: '' })
    const result = await turn.run(async () => {
      await agent.start()
      await agent.open(options.sessionId ? { how: 'load', sessionId: options.sessionId } : { how: 'new' }, options)
      opened = true
    }, async () => { if (!opened) await agent.close() })
    this.record.openingEvents = result.events.filter((event) => event.type !== 'replay').slice(0, MAX_OPENING_EVENTS)
    if (result.error === null) this.#keep(agent)
    return result
  }

  /** Runs a job's turn: on the running agent, or on a new one that resumes (else loads, else renews) the session. */
  async runTurn (job: JobRecord, options: TurnOptions): Promise<AcpResult> {
    if (this.#closed) return failedTurn(`the ACP session ${this.record.id} is closed`)
    if (this.#runningJob !== null) return failedTurn(`the ACP session ${this.record.id} already runs job ${this.#runningJob}`)
    this.#idleTimer?.clear()
    this.#runningJob = job.id
    let endTurn = (): void => {}
    this.#turnEnded = new Promise((resolve) => { endTurn = resolve })
    const entry = { jobId: job.id, prompt: job.spec.acp?.prompt ?? '', stopReason: null, error: null, startedAt: nowSeconds(), finishedAt: null }
    this.record.turns.push(entry)
    if (this.record.turns.length > MAX_TURNS) this.record.turns.splice(0, this.record.turns.length - MAX_TURNS)
    this.#host.changed()
    try {
      const result = await this.#turn(options)
      Object.assign(entry, { stopReason: result.stopReason, error: result.error, finishedAt: nowSeconds() })
      return result
    } finally {
      this.#runningJob = null
      this.record.lastUsedAt = nowSeconds()
      this.#host.changed()
      endTurn()
      this.#armIdle()
    }
  }

  async #turn (options: TurnOptions): Promise<AcpResult> {
    const { AgentSession, AcpTurn } = await loadAcp()
    let agent = this.#agent
    const fresh = agent === null || !agent.alive
    if (fresh) {
      // Why: an agent that died between turns may not have been cleaned up yet.
      if (agent !== null) await this.#drop(agent)
      await this.#stopping
      agent = new AgentSession({ ...acpRunOptions(this.record.spec, this.#host.agents), cancelGraceMs: this.#host.killGraceMs, log: options.log })
    }
    const session = agent as AgentSession
    const template = acpRunOptions(this.record.spec, this.#host.agents)
    let opened = false
    const turn = new AcpTurn(session, options)
    const result = await turn.run(async () => {
      if (fresh) {
        await session.start()
        const previous = this.record.acpSessionId
        await session.open(previous ? { how: 'continue', sessionId: previous } : { how: 'new' }, {
          model: options.model ?? template.model ?? null,
          effort: options.effort ?? template.effort ?? null,
          mode: options.mode ?? template.mode ?? null,
          permissionPolicy: options.permissionPolicy ?? template.permissionPolicy,
        })
        this.#keep(session)
      } else {
        session.reattach()
        await session.applySettings(options)
      }
      opened = true
    }, async () => {
      if (!opened || !session.alive) await this.#drop(session)
    })
    if (session.sessionId !== null) this.record.acpSessionId = session.sessionId
    this.record.state = session.state
    return result
  }

  // The agent is now this session's warm agent; when it dies by itself, it is cleaned up.
  #keep (agent: AgentSession): void {
    this.#agent = agent
    const pid = agent.pid
    this.record.agentProcess = pid === null ? null : { pid, startTime: processStartTime(pid) }
    if (agent.sessionId !== null) this.record.acpSessionId = agent.sessionId
    this.record.state = agent.state
    this.#host.changed()
    this.#armIdle()
    agent.ended.then(() => {
      if (this.#agent === agent && this.#runningJob === null) return this.#drop(agent)
    }).catch((err: unknown) => this.#host.log.error({ err, acpSession: this.record.id }, 'cleaning up an ended agent failed'))
  }

  async #drop (agent: AgentSession, closeSession = false): Promise<void> {
    if (this.#agent === agent) {
      this.#agent = null
      this.record.agentProcess = null
    }
    this.#stopping = agent.close({ closeSession })
    await this.#stopping
    this.#host.changed()
  }

  #armIdle (): void {
    this.#idleTimer?.clear()
    this.#idleTimer = null
    if (this.#host.idleTtlMs <= 0 || this.#closed || this.#agent === null || this.#runningJob !== null) return
    this.#idleTimer = setLongTimeout(() => {
      this.stopAgent().catch((err: unknown) => this.#host.log.error({ err, acpSession: this.record.id }, 'stopping an idle agent failed'))
    }, this.#host.idleTtlMs)
  }

  /** Ends the agent of an idle session (idle TTL, server stop); the session stays and resumes on the next prompt. */
  async stopAgent (): Promise<void> {
    this.#idleTimer?.clear()
    const agent = this.#agent
    if (agent === null || this.#runningJob !== null) return
    this.#host.log.info({ acpSession: this.record.id }, 'ending the agent of an idle ACP session')
    await this.#drop(agent)
  }

  /** Closes the session for good: `session/close` when the agent offers it, then its process tree. Idempotent. */
  async close (): Promise<void> {
    this.#closed = true
    this.#idleTimer?.clear()
    await this.#turnEnded
    const agent = this.#agent
    if (agent !== null) await this.#drop(agent, true)
    await this.#stopping
  }
}
