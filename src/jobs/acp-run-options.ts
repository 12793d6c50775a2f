import type { AcpResult, RunAcpOptions } from '../acp/types.js'
import type { Logger } from '../logger.js'
import type { JobRecord, JobSpec } from './types.js'

/** Warm ACP sessions (src/acp-sessions): which jobs' turns they run, and those turns. */
export interface WarmSessions {
  /** The warm session that runs this job's turn (the one it was queued to, or the one holding its acp_session_id), if any. */
  holderOf: (job: JobRecord) => string | undefined
  /** The ACP session warm session `warmId` has loaded, if it has one. */
  acpSessionIdOf: (warmId: string) => string | null
  /** True while a warm session is being opened on ACP session `sessionId` (jobs on it then wait); without it, on any. */
  opening: (sessionId?: string) => boolean
  /** Runs the job's turn in warm session `warmId`; never throws for a failed turn (that is `error`). */
  runTurn: (warmId: string, job: JobRecord, options: RunAcpOptions & { log: Logger }) => Promise<AcpResult>
}

/** The run options an ACP job's spec gives (the agent, its session and settings, the policy); the same for warm sessions. */
export function acpRunOptions (spec: JobSpec, agents: Readonly<Record<string, string>> | undefined): RunAcpOptions {
  const acp = spec.acp as NonNullable<JobSpec['acp']>
  return {
    agent: acp.agent,
    ...(agents ? { agents } : {}),
    ...(acp.capabilities ? { capabilities: acp.capabilities } : {}),
    prompt: acp.prompt,
    workdir: spec.workdir,
    env: spec.env,
    sessionId: acp.sessionId,
    model: acp.model,
    effort: acp.effort,
    mode: acp.mode,
    mcpServers: acp.mcpServers as never,
    permissionPolicy: acp.permissionPolicy,
  }
}
