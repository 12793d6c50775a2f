import type { Config } from '../config.js'
import type { Logger } from '../logger.js'
import { AcpSessionRegistry } from '../acp-sessions/registry.js'
import { SessionPool } from '../sessions/pool.js'
import { AcpJobRunner } from './acp-runner.js'
import { sessionTerminalsFor } from './acp-session-terminals.js'
import type { JobKind, JobKindHost } from './kind.js'
import { JobRunner } from './runner.js'
import { SessionJobRunner } from './session-runner.js'
import { ShellJobKinds } from './shell-kinds.js'
import { TtyJobRunner } from './tty-runner.js'
import type { JobMode } from './types.js'

/** The kinds of job a server runs, and the collaborators the manager also serves reads from. */
export interface DefaultKinds {
  kinds: Record<JobMode, JobKind>
  acp: AcpJobRunner
  sessions: SessionPool
  acpSessions: AcpSessionRegistry
}

/** Builds the server's job kinds: shell (plain and tty), acp (with warm sessions) and persistent_shell. */
export function buildDefaultKinds (config: Config, host: JobKindHost, log: Logger): DefaultKinds {
  const sessions = new SessionPool({
    stateDir: config.stateDir,
    maxSessions: config.maxSessions,
    idleTimeoutMs: config.sessionIdleTimeoutMs,
    killGraceMs: config.killGraceMs,
    log: log.child({ component: 'sessions' }),
  })
  const acpSessions = new AcpSessionRegistry({
    stateDir: config.stateDir,
    idleTtlMs: config.acpIdleTtlMs,
    maxSessions: config.maxAcpSessions,
    killGraceMs: config.killGraceMs,
    agents: config.acpAgents,
    log: log.child({ component: 'acp-sessions' }),
    // Why a function: the ACP runner below is built with the registry, so it is read when called.
    turnRunsOn: (acpSessionId: string): boolean => acp.sessionBusy(acpSessionId),
    opened: () => host.pump?.(),
  })
  const acp = new AcpJobRunner(host, undefined, (job) => sessionTerminalsFor(sessions, host.files(job.id), job), acpSessions)
  const kinds = { shell: new ShellJobKinds(new JobRunner(host), new TtyJobRunner(host)), acp, persistent_shell: new SessionJobRunner(host, sessions) }
  return { kinds, acp, sessions, acpSessions }
}
