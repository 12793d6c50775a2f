import type { WarmSessions } from './acp-run-options.js'
import type { JobRecord } from './types.js'

/**
 * Which job holds each ACP session (warm, or by its acp_session_id), so that jobs on one session run one at a time.
 * Why: two turns on one ACP session at once can lose one of them (seen with claude-agent-acp).
 * A turn in a warm session holds both the warm session and the ACP session it has loaded, so a job
 * that was already running on that ACP session without the warm one (it was opened meanwhile) is waited for.
 */
export class AcpSessionLocks {
  /** Session lock key → the job holding it. */
  readonly #locks = new Map<string, string>()
  readonly #warm: WarmSessions | undefined

  /** `warm` tells which warm session runs a job's turn and which ACP sessions are being opened. */
  constructor (warm: WarmSessions | undefined) {
    this.#warm = warm
  }

  /** True while `free` may say no: some job holds a session, or a warm session is being opened. */
  get selective (): boolean {
    return this.#locks.size > 0 || this.#warm?.opening() === true
  }

  /** True while a job holds ACP session `sessionId` (it runs a turn on it). */
  held (sessionId: string): boolean {
    return this.#locks.has(`acp:${sessionId}`)
  }

  /** False while another job holds the job's session, or a warm session is being opened on it. */
  free (job: JobRecord): boolean {
    const keys = this.#keysOf(job)
    if (keys.warmId === undefined && keys.sessionId !== undefined && this.#warm?.opening(keys.sessionId) === true) return false
    return keys.all.every((key) => !this.#locks.has(key))
  }

  /** Takes the job's sessions for it, those nobody holds. */
  lock (job: JobRecord): void {
    for (const key of this.#keysOf(job).all) if (!this.#locks.has(key)) this.#locks.set(key, job.id)
  }

  /** Locks a session the job's run just created, so that a job loading it waits for this one (not for warm turns). */
  lockNewSession (job: JobRecord, sessionId: string): void {
    if (!this.#locks.has(`acp:${sessionId}`) && this.#warm?.holderOf(job) === undefined) this.#locks.set(`acp:${sessionId}`, job.id)
  }

  /** Frees every session job `id` holds. */
  unlock (id: string): void {
    for (const [key, holder] of this.#locks) if (holder === id) this.#locks.delete(key)
  }

  #keysOf (job: JobRecord): { warmId: string | undefined, sessionId: string | undefined, all: string[] } {
    const warmId = this.#warm?.holderOf(job)
    const sessionId = warmId !== undefined ? this.#warm?.acpSessionIdOf(warmId) ?? undefined : job.spec.acp?.sessionId ?? undefined
    const all = [...(warmId !== undefined ? [`warm:${warmId}`] : []), ...(sessionId ? [`acp:${sessionId}`] : [])]
    return { warmId, sessionId: sessionId || undefined, all }
  }
}
