import { readFileSync } from 'node:fs'
import { signalName } from '../exec/process-group.js'
import { parseExitRecord, type CommandFiles, type ExitRecord } from './command-line.js'
import type { SessionOutcome } from './types.js'

/** Messages of outcomes that are not the command's own exit status. */
export const SESSION_MESSAGES = {
  shellExited: (status: number | null) => `the command ended the session's shell (exit status ${status ?? 'unknown'}); the next command starts a new shell with the session's seed and bootstrap`,
  shellStuck: "the session's shell did not come back after the command was killed and was ended; the next command starts a new shell with the session's seed and bootstrap",
  bootstrapFailed: (status: number) => `the session's bootstrap command failed with exit status ${status}; the command was not run`,
  lostWhileDown: "the session's shell ended while no server was running; the command's exit status is unknown",
  cancelled: 'the command was cancelled before it ran',
  ended: (why: string) => `the session was ended (${why}) while the command was running or waiting`,
} as const

/** An outcome without an exit status of the command: `error` says why. */
export function failedOutcome (error: string, timedOut: boolean, shellRestarted: boolean, exitCode: number | null = null, signal: string | null = null): SessionOutcome {
  return { exitCode, signal, error, timedOut, shellRestarted }
}

/** The outcome an exit record gives: the command's status, or the failed bootstrap's. */
export function outcomeOf (record: ExitRecord, timedOut: boolean): SessionOutcome {
  if (record.bootstrapFailed) {
    return failedOutcome(SESSION_MESSAGES.bootstrapFailed(record.status), timedOut, false, record.status === 0 ? 1 : record.status)
  }
  // Why: a shell reports a command killed by signal n as status 128 + n.
  const signal = record.status > 128 ? signalName(record.status - 128) ?? null : null
  return { exitCode: record.status, signal, error: null, timedOut, shellRestarted: false }
}

/** The command's exit record with `marker`, or null until it is complete. */
export function readExitRecord (files: CommandFiles, marker: string): ExitRecord | null {
  try {
    return parseExitRecord(readFileSync(files.exit, 'latin1'), marker)
  } catch {
    return null
  }
}
