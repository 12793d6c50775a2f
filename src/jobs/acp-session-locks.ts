import type { JobRecord } from './types.js'

/**
 * Which job holds each ACP session (warm, or by its acp_session_id), so that jobs on one session run one at a time.
 * Why: two turns on one ACP session at once can lose one of them (seen with claude-agent-acp).
 */
export class AcpSessionLocks {
  /** Session lock key → the job holding it. */
  readonly #locks = new Map<string, string>()
  readonly #holderOf: (job: JobRecord) => string | undefined

  /** `holderOf` names the warm session that runs a job's turn, if any. */
  constructor (holderOf: (job: JobRecord) => string | undefined) {
    this.#holderOf = holderOf
  }

  /** True while some job holds a session. */
  get size (): number {
    return this.#locks.size
  }

  /** False while another job holds the job's session. */
  free (job: JobRecord): boolean {
    const key = this.#keyOf(job)
    return key === null || !this.#locks.has(key)
  }

  /** Takes the job's session for it, unless someone holds it. */
  lock (job: JobRecord): void {
    const key = this.#keyOf(job)
    if (key !== null && !this.#locks.has(key)) this.#locks.set(key, job.id)
  }

  /** Locks a session the job's run just created, so that a job loading it waits for this one (not for warm turns). */
  lockNewSession (job: JobRecord, sessionId: string): void {
    if (!this.#locks.has(`acp:${sessionId}`) && this.#holderOf(job) === undefined) this.#locks.set(`acp:${sessionId}`, job.id)
  }

  /** Frees every session job `id` holds. */
  unlock (id: string): void {
    for (const [key, holder] of this.#locks) if (holder === id) this.#locks.delete(key)
  }

  #keyOf (job: JobRecord): string | null {
    const warmId = this.#holderOf(job)
    if (warmId !== undefined) return `warm:${warmId}`
    const sessionId = job.spec.acp?.sessionId
    return sessionId ? `acp:${sessionId}` : null
  }
}
