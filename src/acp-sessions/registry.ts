import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { customAlphabet } from 'nanoid'
import type { AcpResult } from '../acp/types.js'
import { Errors } from '../errors.js'
import type { WarmSessions } from '../jobs/acp-run-options.js'
import type { JobRecord, JobSpec } from '../jobs/types.js'
import { isSameProcess, signalGroup } from '../exec/process-group.js'
import { nowSeconds } from '../lib/clock.js'
import type { Logger } from '../logger.js'
import type { TurnOptions } from '../acp/turn.js'
import { acpRunOptions } from '../jobs/acp-run-options.js'
import type { AcpSessionRecord } from './types.js'
import { failedTurn, WarmSession } from './warm-session.js'

// Why hex: the same shape as job ids, safe in URLs and file names.
const newSessionId = customAlphabet('0123456789abcdef', 12)
const STATE_FILE = 'acp-sessions.json'
// Closed sessions still listed (the oldest are forgotten first).
const MAX_CLOSED = 100

/** What the registry is built with. */
export interface RegistryOptions {
  stateDir: string
  /** An idle warm agent is ended after this long; 0 = never. */
  idleTtlMs: number
  /** Open (not closed) sessions at most, those being opened included. */
  maxSessions: number
  killGraceMs: number
  /** ACP agents by name over the built-in table (`--acp-agents`). */
  agents?: Readonly<Record<string, string>> | undefined
  log: Logger
  /** True while a job runs a turn on ACP session `id` (a warm session must not load it then). */
  turnRunsOn?: (acpSessionId: string) => boolean
  /** Called when an opening on an acp_session_id ends (jobs on it that waited may start). */
  opened?: () => void
}

/**
 * The warm ACP sessions, by id. Open sessions are saved in `<state>/acp-sessions.json`: a server
 * that restarts knows them again (their agents are not running; the next prompt starts the agent
 * and resumes the session). Closed ones are kept in memory only (the latest 100).
 */
export class AcpSessionRegistry implements WarmSessions {
  readonly #o: RegistryOptions
  readonly #sessions = new Map<string, WarmSession>()
  readonly #path: string
  #closed = false
  // Sessions whose agent is being started by `create`, not in #sessions yet.
  #opening = 0
  // The ACP session ids those openings load.
  readonly #openingIds = new Set<string>()

  constructor (options: RegistryOptions) {
    this.#o = options
    this.#path = join(options.stateDir, STATE_FILE)
    for (const record of this.#read()) {
      // A turn still open on disk ran when the last server stopped; its job says how it ended.
      for (const turn of record.turns) if (turn.finishedAt === null) Object.assign(turn, { error: 'the server stopped during this turn', finishedAt: record.lastUsedAt })
      // Why: after a crash the warm agent may still run, without a server to talk to.
      const left = record.agentProcess
      if (left && isSameProcess(left.pid, left.startTime)) {
        options.log.info({ acpSession: record.id, pid: left.pid }, 'ending the agent a stopped server left running')
        signalGroup(left.pid, 'SIGKILL')
      }
      record.agentProcess = null
      this.#sessions.set(record.id, this.#wrap(record))
    }
  }

  /** Starts the agent and a session (a turn without prompt, limited by the spec's timeouts); throws ACP_SESSION_START_FAILED. */
  async create (spec: JobSpec): Promise<WarmSession> {
    const open = this.list().filter((session) => !session.closed).length + this.#opening
    if (open >= this.#o.maxSessions) throw new Errors.ACP_SESSION_LIMIT(this.#o.maxSessions)
    const sessionId = spec.acp?.sessionId ?? null
    if (sessionId !== null) this.#checkFree(sessionId)
    this.#opening++
    if (sessionId !== null) this.#openingIds.add(sessionId)
    try {
      return await this.#create(spec)
    } finally {
      this.#opening--
      if (sessionId !== null) {
        this.#openingIds.delete(sessionId)
        this.#o.opened?.()
      }
    }
  }

  // Why: two agents must never drive one ACP session at once.
  #checkFree (sessionId: string): void {
    if (this.#o.turnRunsOn?.(sessionId) === true) throw new Errors.ACP_SESSION_BUSY(sessionId, 'a job runs a turn on it')
    if (this.#openingIds.has(sessionId) || this.#holding(sessionId) !== undefined) throw new Errors.ACP_SESSION_BUSY(sessionId, 'another warm session holds it')
  }

  /** True while a warm session is being opened on ACP session `sessionId` (without it: on any existing one). */
  opening (sessionId?: string): boolean {
    return sessionId === undefined ? this.#openingIds.size > 0 : this.#openingIds.has(sessionId)
  }

  /** The ACP session warm session `warmId` has loaded, if any. */
  acpSessionIdOf (warmId: string): string | null {
    return this.#sessions.get(warmId)?.record.acpSessionId ?? null
  }

  async #create (spec: JobSpec): Promise<WarmSession> {
    const now = nowSeconds()
    const record: AcpSessionRecord = { id: newSessionId(), spec, acpSessionId: null, createdAt: now, lastUsedAt: now, queued: [], turns: [], state: null }
    const session = this.#wrap(record)
    const log = this.#o.log.child({ acpSession: record.id })
    const result = await session.open({
      ...acpRunOptions(spec, this.#o.agents),
      timeoutMs: spec.timeoutSec * 1000,
      idleTimeoutMs: spec.idleTimeoutSec * 1000,
      cancelGraceMs: this.#o.killGraceMs,
      log,
    })
    if (result.error !== null) throw new Errors.ACP_SESSION_START_FAILED(result.error)
    if (this.#closed) {
      await session.close()
      throw new Errors.SERVER_DRAINING()
    }
    this.#sessions.set(record.id, session)
    this.#save()
    log.info({ acpSessionId: record.acpSessionId }, 'warm ACP session opened')
    return session
  }

  get (id: string): WarmSession | undefined {
    return this.#sessions.get(id)
  }

  /** Every session, oldest first. */
  list (): WarmSession[] {
    return [...this.#sessions.values()]
  }

  /** The session, or ACP_SESSION_NOT_FOUND. */
  require (id: string): WarmSession {
    const session = this.#sessions.get(id)
    if (!session) throw new Errors.ACP_SESSION_NOT_FOUND()
    return session
  }

  /** The warm session a job's turn runs in: the one it was queued to, or the open one holding its acp_session_id. */
  holderOf (job: JobRecord): string | undefined {
    const acp = job.spec.acp
    if (!acp) return undefined
    if (acp.warmSessionId) return acp.warmSessionId
    return acp.sessionId ? this.#holding(acp.sessionId) : undefined
  }

  // The open warm session that has ACP session `sessionId` loaded.
  #holding (sessionId: string): string | undefined {
    for (const session of this.#sessions.values()) {
      if (!session.closed && session.record.acpSessionId === sessionId) return session.record.id
    }
    return undefined
  }

  async runTurn (warmId: string, job: JobRecord, options: TurnOptions): Promise<AcpResult> {
    const session = this.#sessions.get(warmId)
    if (!session) return failedTurn(`the ACP session ${warmId} is gone (closed, or closed before a restart)`)
    return await session.runTurn(job, options)
  }

  /** Records a prompt job queued to the session. */
  queued (session: WarmSession, jobId: string): void {
    session.record.queued.push(jobId)
    this.#save()
  }

  /** Forgets queued job ids that are no longer pending. */
  prune (session: WarmSession, isPending: (jobId: string) => boolean): string[] {
    const before = session.record.queued.length
    session.record.queued = session.record.queued.filter(isPending)
    if (session.record.queued.length !== before) this.#save()
    return session.record.queued
  }

  /** Closes a session for good (its running turn must have been cancelled first); it is no longer saved. */
  async close (session: WarmSession): Promise<void> {
    await session.close()
    const closed = this.list().filter((s) => s.closed)
    for (const old of closed.slice(0, Math.max(0, closed.length - MAX_CLOSED))) this.#sessions.delete(old.record.id)
    this.#save()
  }

  /** Server stop: ends every warm agent; open sessions stay saved for the next server. */
  async closeAll (): Promise<void> {
    this.#closed = true
    await Promise.all(this.list().map((s) => s.stopAgent().catch((err: unknown) => this.#o.log.error({ err }, 'ending an ACP agent failed'))))
    this.#save()
  }

  #wrap (record: AcpSessionRecord): WarmSession {
    return new WarmSession(record, { idleTtlMs: this.#o.idleTtlMs, killGraceMs: this.#o.killGraceMs, agents: this.#o.agents, log: this.#o.log, changed: () => this.#save() })
  }

  #read (): AcpSessionRecord[] {
    let text: string
    try { text = readFileSync(this.#path, 'utf8') } catch { return [] }
    try {
      const records = JSON.parse(text) as AcpSessionRecord[]
      return Array.isArray(records) ? records.filter((r) => typeof r?.id === 'string' && typeof r.spec?.acp === 'object') : []
    } catch (err) {
      this.#o.log.warn({ err, path: this.#path }, 'unreadable ACP session registry; starting empty')
      return []
    }
  }

  // Atomically (temp file + rename); the file holds env values, so it is private to the user.
  #save (): void {
    try {
      const open = this.list().filter((s) => !s.closed).map((s) => s.record)
      writeFileSync(`${this.#path}.tmp`, JSON.stringify(open), { mode: 0o600 })
      renameSync(`${this.#path}.tmp`, this.#path)
    } catch (err) {
      this.#o.log.error({ err }, 'saving the ACP session registry failed')
    }
  }
}
