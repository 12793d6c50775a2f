// A session's bootstrap command (devpilot §5.3): which one is stored, and when it is due.
import type { ExitRecord } from './command-line.js'
import type { SessionState } from './state-file.js'
import type { SessionRunRequest } from './types.js'

/**
 * A request's bootstrap replaces the stored one, applied already when it is the command itself;
 * true when that changed the state.
 */
export function takeRequestBootstrap (state: SessionState, request: SessionRunRequest): boolean {
  if (request.bootstrapCommand === '') return false
  const changed = state.bootstrap !== request.bootstrapCommand || state.bootstrapApplied !== request.bootstrapCurrentCommand
  state.bootstrap = request.bootstrapCommand
  state.bootstrapApplied = request.bootstrapCurrentCommand
  return changed
}

/** True when the stored bootstrap must run before the request's command. */
export function bootstrapDue (state: SessionState, request: SessionRunRequest): boolean {
  return state.bootstrap !== null && !state.bootstrapApplied && !request.bootstrapCurrentCommand
}

/** Marks the bootstrap applied once a command ran after it; true when that changed the state. */
export function noteBootstrapRan (state: SessionState, record: ExitRecord | null): boolean {
  if (!record || record.bootstrapFailed || state.bootstrap === null || state.bootstrapApplied) return false
  state.bootstrapApplied = true
  return true
}
