// Shapes of the warm ACP sessions (POST /acp/sessions) as the registry keeps them.
import type { SessionState } from '../acp/session-opener.js'
import type { AcpEvent } from '../acp/types.js'
import type { JobSpec } from '../jobs/types.js'

/** One prompt turn of a warm session (GET /acp/sessions/:id/history). Times are epoch seconds. */
export interface AcpTurnRecord {
  jobId: string
  prompt: string
  /** Null while the turn runs. */
  stopReason: string | null
  error: string | null
  startedAt: number
  finishedAt: number | null
}

/** What the registry keeps of a session, on disk too (`acp-sessions.json`), so that a later server can resume it. */
export interface AcpSessionRecord {
  id: string
  /** The ACP job spec its prompts are made from: agent, workdir, env, policy, settings, limits. */
  spec: JobSpec
  /** The agent's session id (it changes when the agent could not resume and a new session began). */
  acpSessionId: string | null
  createdAt: number
  lastUsedAt: number
  /** Prompt jobs queued to this session (those still pending are its queue). */
  queued: string[]
  turns: AcpTurnRecord[]
  /** The warm agent's process while it runs (a server that crashed leaves it; the next one ends it). */
  agentProcess?: { pid: number, startTime: string | null } | null
  /** The latest that is known of the agent and its session (null until the agent ran). */
  state: SessionState | null
  /** What happened while the session was opened (initialize, session, mode choice, warnings); replayed history left out. */
  openingEvents?: AcpEvent[]
}

/** What a warm session is doing. */
export type AcpSessionStatus = 'idle' | 'busy' | 'closed'
