/**
 * How a job's process ended, as plain facts. Deciding what they mean for the job (status, exit
 * code, error text) is `jobs/outcome.ts`'s work, not this folder's.
 */
export type ProcessEnd =
  /** A shell-style status: the one the wrapper recorded for the command, else the wrapper's own. */
  | { type: 'status', status: number }
  /** The wrapper died of this signal before it could record a status. */
  | { type: 'signal', signal: NodeJS.Signals }
  /** The wrapper could not open the job's output files; the command never ran. */
  | { type: 'output-files-failed', path: string }
  /** This server sent SIGKILL and the wrapper left no status. */
  | { type: 'killed' }
  /** Gone without a status and not by this server's hand (it ended while no server was running). */
  | { type: 'vanished' }
