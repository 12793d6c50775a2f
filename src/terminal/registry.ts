import type { Logger } from '../logger.js'
import type { TerminalEndReason } from './protocol.js'
import type { TerminalRecords } from './records.js'
import { TerminalSession, type TerminalInfo, type TerminalSpec, type TerminalTimeouts } from './session.js'

/** Why a new terminal was not started. */
export type OpenRefusal = { refused: string }

// The live terminals of this server: the session limit, lookup for reattach, and ending them all.
export class TerminalRegistry {
  readonly #sessions = new Map<string, TerminalSession>()
  readonly #maxSessions: number
  readonly #timeouts: TerminalTimeouts
  readonly #log: Logger
  readonly #records: TerminalRecords
  #leftovers: Promise<unknown> = Promise.resolve()
  #accepting = true

  constructor (maxSessions: number, timeouts: TerminalTimeouts, log: Logger, records: TerminalRecords) {
    this.#maxSessions = maxSessions
    this.#timeouts = timeouts
    this.#log = log
    this.#records = records
  }

  /** Ends, in the background, what is left of the terminals of a server that was killed without ending them. */
  endLeftovers (): void {
    this.#leftovers = this.#records.endLeftovers()
      .then((signalled) => { if (signalled > 0) this.#log.info({ signalled }, 'ended processes left by terminals of a previous server') })
      .catch((err: unknown) => this.#log.error({ err }, 'ending the terminals of a previous server failed'))
  }

  get count (): number {
    return this.#sessions.size
  }

  /** Starts a terminal, or says why not (limit reached, server draining). Throws when the shell cannot start. */
  open (spec: TerminalSpec): TerminalSession | OpenRefusal {
    if (!this.#accepting) return { refused: 'the server is preparing to update; no new terminals now' }
    if (this.#sessions.size >= this.#maxSessions) return { refused: `Max terminal sessions (${this.#maxSessions}) reached` }
    const session = new TerminalSession(spec, this.#timeouts, this.#log, (ended) => {
      this.#sessions.delete(ended.id)
      this.#records.remove(ended.id)
    })
    this.#sessions.set(session.id, session)
    this.#records.add(session.id, session.pid)
    return session
  }

  get (id: string): TerminalSession | undefined {
    const session = this.#sessions.get(id)
    return session?.ending === true ? undefined : session
  }

  list (): TerminalInfo[] {
    return [...this.#sessions.values()].map((session) => session.info())
  }

  /** Ends terminal `id`; false when there is none. */
  async end (id: string, reason: TerminalEndReason): Promise<boolean> {
    const session = this.#sessions.get(id)
    if (!session) return false
    await session.end(reason)
    return true
  }

  /** Stop (or resume) starting new terminals, while an update drains. */
  setAccepting (accepting: boolean): void {
    this.#accepting = accepting
  }

  /** Ends every terminal and waits until their processes are gone. */
  async close (): Promise<void> {
    this.#accepting = false
    await Promise.all([...this.#sessions.values()].map((session) => session.end('server stopping')))
    await this.#leftovers
  }
}
