/** How a child process ended: an exit code, or the signal that killed it. */
export interface ChildExit {
  code: number | null
  signal: NodeJS.Signals | null
}

// Exit codes of the server that the wrapper acts on (API.md §11).
export const EXIT_OK = 0
export const EXIT_UPDATE = 42
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
