/** How a child process ended: an exit code, or the signal that killed it. */
export interface ChildExit {
  code: number | null
  signal: NodeJS.Signals | null
}

// The process exit codes of agent-server (API.md §11), defined once for the server, the CLI and the wrapper.
/** Normal stop. */
export const EXIT_OK = 0
/** Any other failure. */
export const EXIT_FAILURE = 1
/** devpilot's wrapper contract (*compat*): "update me, then start me again", after POST /update. */
export const EXIT_UPDATE = 42
/** Bad flag, value or environment variable: restarting with the same settings would fail again. */
export const EXIT_CONFIG = 78

/** What an exit means to the wrapper: asked to stop, clean stop, update, bad configuration, crash. */
export type ExitKind = 'stopped' | 'clean' | 'update' | 'config' | 'crash'

/** Classifies a child's exit; any exit after a stop we forwarded counts as `stopped`. */
export function classifyExit (exit: ChildExit, stopRequested: boolean): ExitKind {
  if (stopRequested) return 'stopped'
  if (exit.signal !== null || exit.code === null) return 'crash'
  if (exit.code === EXIT_OK) return 'clean'
  if (exit.code === EXIT_UPDATE) return 'update'
  if (exit.code === EXIT_CONFIG) return 'config'
  return 'crash'
}
