import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { setLongTimeout, type LongTimer } from '../lib/long-timer.js'
import type { StdinWrite } from './command-runner.js'
import { SESSION_MESSAGES } from './outcomes.js'
import { Session, type SessionOptions } from './session.js'
import { readSessionState } from './state-file.js'
import { SessionRunError, type ReAdoptEntry, type SessionInfo, type SessionRunCallbacks, type SessionRunRequest } from './types.js'

/** Limits and places of a pool. */
export interface SessionPoolOptions {
  /** The server's state dir; sessions live in `<stateDir>/sessions/<hash of key>/`. */
  stateDir: string
  /** devpilot's default is 32. */
  maxSessions: number
  /** Ends a session unused for this long with nothing running; 0 = never. */
  idleTimeoutMs: number
  /** Between SIGINT, SIGTERM and SIGKILL of a command being killed. */
  killGraceMs: number
  log: Logger
}

/** What `nudge` answers, in devpilot's shape (§1.8). */
export interface NudgeResult { nudged: boolean, reason?: string, processAlive: boolean }

// Every persistent shell session of the server, by key; the one owner of their shells.
export class SessionPool {
  readonly #options: SessionPoolOptions
  readonly #sessions = new Map<string, Session>()
  readonly #jobs = new Map<string, Session>()
  readonly #idleTimers = new Map<Session, LongTimer>()
  #closed = false

  constructor (options: SessionPoolOptions) {
    this.#options = options
    mkdirSync(this.#root, { recursive: true, mode: 0o700 })
  }

  get #root (): string { return join(this.#options.stateDir, 'sessions') }

  /** The most sessions at once. */
  get maxSessions (): number { return this.#options.maxSessions }

  /** The idle timeout of sessions; 0 = none. */
  get idleTimeoutMs (): number { return this.#options.idleTimeoutMs }

  /** The number of sessions tracked. */
  get size (): number { return this.#sessions.size }

  /**
   * Queues one command in its session (created and seeded from this request when new) and
   * returns its place: 0 runs now, n waits behind n - 1 others. Throws SessionRunError for the
   * session limit, another shell under the same key, or a closed pool (devpilot failed the job).
   */
  run (request: SessionRunRequest, callbacks: SessionRunCallbacks): { position: number } {
    if (this.#closed) throw new SessionRunError('SESSION_CLOSED', 'persistent shell sessions are shutting down')
    let session = this.#sessions.get(request.sessionKey)
    if (session && session.shell !== request.shell) {
      throw new SessionRunError('SESSION_SHELL_MISMATCH', `session '${request.sessionKey}' already uses shell '${session.shell}'`)
    }
    if (!session) {
      if (this.#sessions.size >= this.#options.maxSessions) {
        throw new SessionRunError('SESSION_LIMIT', 'maximum persistent shell sessions reached')
      }
      session = Session.create(request, this.#sessionOptions(request.sessionKey))
      this.#sessions.set(request.sessionKey, session)
    }
    this.#clearIdle(session)
    this.#jobs.set(request.jobId, session)
    const owner = session
    const position = session.enqueue(request, {
      started: callbacks.started,
      finished: (outcome) => {
        if (this.#jobs.get(request.jobId) === owner) this.#jobs.delete(request.jobId)
        callbacks.finished(outcome)
      },
    })
    return { position }
  }

  /** True while job `jobId` runs or waits in a session. */
  has (jobId: string): boolean { return this.#jobs.has(jobId) }

  /** The job's place (0 running, n waiting), or null when it is not in a session. */
  position (jobId: string): number | null {
    return this.#jobs.get(jobId)?.position(jobId) ?? null
  }

  /** Sends `signal` to the running command's processes (never the shell); the number signalled. */
  signal (jobId: string, signal: NodeJS.Signals): number {
    return this.#jobs.get(jobId)?.signal(jobId, signal) ?? 0
  }

  /** Kills or cancels a command, keeping the session: SIGINT, SIGTERM, SIGKILL after the grace each. */
  async terminate (jobId: string): Promise<void> {
    await this.#jobs.get(jobId)?.terminate(jobId)
  }

  /** Writes bytes to the stdin of the running command `jobId`. */
  writeStdin (jobId: string, data: string | Buffer): StdinWrite {
    const session = this.#jobs.get(jobId)
    if (!session) return { written: false, bytes: 0, reason: 'persistent session not running' }
    return session.writeStdin(jobId, data)
  }

  /** devpilot's session nudge: a newline to the session's stdin, only while this command runs. */
  nudge (jobId: string): NudgeResult {
    const session = this.#jobs.get(jobId)
    if (!session) return { nudged: false, reason: 'persistent session not running', processAlive: false }
    const result = session.writeStdin(jobId, '\n')
    const processAlive = session.processAlive
    return result.written ? { nudged: true, processAlive } : { nudged: false, reason: result.reason, processAlive }
  }

  /** The info object of every session, oldest first. */
  list (): SessionInfo[] {
    return [...this.#sessions.values()].map((s) => s.info())
  }

  /** The info object of one session, or null. */
  info (key: string): SessionInfo | null {
    return this.#sessions.get(key)?.info() ?? null
  }

  /** Ends a session (kills every process of it, fails its commands, forgets seed and bootstrap); false when unknown. */
  async delete (key: string, why = 'deleted'): Promise<boolean> {
    const session = this.#sessions.get(key)
    if (!session) return false
    this.#forget(session)
    await session.end(why)
    return true
  }

  /**
   * After a server restart: takes over every session an earlier server left on disk whose shell
   * is the same live process, and the commands they run; `running` are the job records still
   * marked running. Jobs that are not running in any session finish with an error.
   */
  reAdopt (running: readonly ReAdoptEntry[]): { sessions: number, adoptedJobs: string[] } {
    const byKey = new Map<string, ReAdoptEntry[]>()
    for (const entry of running) byKey.set(entry.sessionKey, [...(byKey.get(entry.sessionKey) ?? []), entry])
    const adoptedJobs: string[] = []
    let entries: string[] = []
    try { entries = readdirSync(this.#root) } catch { /* none */ }
    for (const name of entries) {
      const state = readSessionState(join(this.#root, name, 'session.json'))
      if (!state || this.#sessions.has(state.sessionKey)) continue
      const session = new Session(state, this.#sessionOptions(state.sessionKey))
      this.#sessions.set(state.sessionKey, session)
      const mine = (byKey.get(state.sessionKey) ?? []).map((entry) => this.#tracked(entry, session))
      byKey.delete(state.sessionKey)
      session.adopt(mine)
      adoptedJobs.push(...mine.map((e) => e.jobId).filter((jobId) => this.#jobs.get(jobId) === session))
      if (!session.busy) this.#armIdle(session)
    }
    for (const entry of [...byKey.values()].flat()) {
      entry.callbacks.finished({ exitCode: null, signal: null, error: SESSION_MESSAGES.lostWhileDown, timedOut: false, shellRestarted: true })
    }
    return { sessions: this.#sessions.size, adoptedJobs }
  }

  // The entry with its job registered here and forgotten again when it finishes.
  #tracked (entry: ReAdoptEntry, session: Session): ReAdoptEntry {
    this.#jobs.set(entry.jobId, session)
    return {
      ...entry,
      callbacks: {
        started: entry.callbacks.started,
        finished: (outcome) => {
          if (this.#jobs.get(entry.jobId) === session) this.#jobs.delete(entry.jobId)
          entry.callbacks.finished(outcome)
        },
      },
    }
  }

  /** Ends every session and its processes (server stop with sessions). */
  async close (): Promise<void> {
    this.#closed = true
    const sessions = [...this.#sessions.values()]
    for (const s of sessions) this.#forget(s)
    await Promise.all(sessions.map((s) => s.end('the server closed its sessions')))
  }

  /** Stops watching every session; shells and running commands go on for the next server. */
  detach (): void {
    this.#closed = true
    for (const s of this.#sessions.values()) {
      this.#clearIdle(s)
      s.detach()
    }
    this.#sessions.clear()
    this.#jobs.clear()
  }

  #sessionOptions (key: string): SessionOptions {
    return {
      dir: join(this.#root, createHash('sha256').update(key).digest('hex').slice(0, 24)),
      killGraceMs: this.#options.killGraceMs,
      log: this.#options.log.child({ sessionKey: key }),
      onIdle: (session) => { this.#armIdle(session) },
    }
  }

  #forget (session: Session): void {
    this.#clearIdle(session)
    if (this.#sessions.get(session.key) === session) this.#sessions.delete(session.key)
    for (const [jobId, owner] of this.#jobs) if (owner === session) this.#jobs.delete(jobId)
  }

  #armIdle (session: Session): void {
    const idleMs = this.#options.idleTimeoutMs
    if (idleMs <= 0 || this.#closed) return
    this.#clearIdle(session)
    const elapsedMs = Date.now() - session.lastUsedAt * 1000
    this.#idleTimers.set(session, setLongTimeout(() => {
      this.#idleTimers.delete(session)
      if (session.busy || this.#sessions.get(session.key) !== session) return
      this.delete(session.key, 'idle timeout').catch((err: unknown) => {
        this.#options.log.error({ err, sessionKey: session.key }, 'ending an idle session failed')
      })
    }, idleMs - elapsedMs))
  }

  #clearIdle (session: Session): void {
    this.#idleTimers.get(session)?.clear()
    this.#idleTimers.delete(session)
  }
}
