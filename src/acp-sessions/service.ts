import type { AcpSession, AcpSessionHistory } from '../contract/acp-session.js'
import { Errors } from '../errors.js'
import type { JobManager } from '../jobs/manager.js'
import type { AcpSessionRegistry } from './registry.js'
import { parseAcpSessionRequest, parsePromptRequest } from './request.js'
import { acpHistoryView, acpSessionView } from './view.js'
import type { WarmSession } from './warm-session.js'

/** What the /acp/sessions routes do: the registry for the sessions, the job manager for their prompts. */
export class AcpSessionService {
  readonly #registry: AcpSessionRegistry
  readonly #jobs: JobManager
  readonly #serverCwd: string

  constructor (registry: AcpSessionRegistry, jobs: JobManager, serverCwd: string) {
    this.#registry = registry
    this.#jobs = jobs
    this.#serverCwd = serverCwd
  }

  /** POST /acp/sessions: starts the agent and its session, and keeps it warm. */
  async create (body: unknown): Promise<AcpSession> {
    const spec = parseAcpSessionRequest(body, this.#serverCwd)
    return this.#view(await this.#registry.create(spec))
  }

  /** POST /acp/sessions/:id/prompts: queues the prompt as an ACP job of the session. */
  prompt (id: string, body: unknown): { jobId: string, status: 'pending' } {
    const session = this.#registry.require(id)
    if (session.closed) throw new Errors.ACP_SESSION_CLOSED()
    const spec = parsePromptRequest(body, { id, spec: session.record.spec, acpSessionId: session.record.acpSessionId })
    const { job } = this.#jobs.submit(spec)
    this.#registry.queued(session, job.id)
    return { jobId: job.id, status: 'pending' }
  }

  list (): AcpSession[] {
    return this.#registry.list().map((s) => this.#view(s))
  }

  get (id: string): AcpSession {
    return this.#view(this.#registry.require(id))
  }

  history (id: string): AcpSessionHistory {
    return acpHistoryView(this.#registry.require(id))
  }

  /** DELETE /acp/sessions/:id: queued prompts are cancelled, a running one too; then the session is closed. */
  async delete (id: string): Promise<AcpSession> {
    const session = this.#registry.require(id)
    if (!session.closed) {
      for (const jobId of this.#queue(session)) this.#kill(jobId)
      if (session.runningJob !== null) this.#kill(session.runningJob)
      await this.#registry.close(session)
    }
    return this.#view(session)
  }

  #kill (jobId: string): void {
    try {
      this.#jobs.kill(jobId)
    } catch (err) {
      // Why: a job that ended meanwhile is fine; anything else is a real failure.
      if (!(err instanceof Errors.JOB_NOT_RUNNING) && !(err instanceof Errors.JOB_NOT_FOUND)) throw err
    }
  }

  #queue (session: WarmSession): string[] {
    return this.#registry.prune(session, (jobId) => this.#jobs.get(jobId)?.status === 'pending')
  }

  #view (session: WarmSession): AcpSession {
    return acpSessionView(session, this.#queue(session))
  }
}
