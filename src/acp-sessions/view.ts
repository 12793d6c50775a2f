import type { AcpSession, AcpSessionHistory } from '../contract/acp-session.js'
import type { WarmSession } from './warm-session.js'

/** A warm session as GET /acp/sessions/:id shows it; `queue` = its prompt jobs still pending. */
export function acpSessionView (session: WarmSession, queue: string[]): AcpSession {
  const { record } = session
  const acp = record.spec.acp
  const state = record.state
  return {
    id: record.id,
    acpSessionId: record.acpSessionId,
    agent: acp?.agent ?? '',
    workdir: record.spec.workdir,
    permissionPolicy: acp?.permissionPolicy ?? '',
    state: session.status,
    warm: session.pid !== null,
    pid: session.pid,
    jobId: session.runningJob,
    queue,
    turns: record.turns.length,
    createdAt: record.createdAt,
    lastUsedAt: record.lastUsedAt,
    lastUsage: state?.lastUsage ?? null,
    agentInfo: state?.agentInfo ?? null,
    modes: state?.modes ?? null,
    models: state?.models ?? null,
    configOptions: state?.configOptions ?? null,
    openingEvents: record.openingEvents ?? [],
  } as AcpSession
}

/** The turns of a session (GET /acp/sessions/:id/history). */
export function acpHistoryView (session: WarmSession): AcpSessionHistory {
  return { id: session.record.id, turns: session.record.turns.map((t) => ({ ...t })) }
}
