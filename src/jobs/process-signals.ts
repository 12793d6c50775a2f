import type { Logger } from '../logger.js'
import { ENDING_SIGNALS, type KillReason } from './outcome.js'

/** A running job whose process group can be ended and signalled (shell and tty jobs). */
export interface SignallableJob {
  killReason: KillReason | null
  process: { terminate: (graceMs: number) => Promise<void>, signal: (signal: NodeJS.Signals) => boolean }
}

/** SIGTERM to the job's group, SIGKILL after the grace; the first reason given is the one recorded. */
export function terminateJob (running: SignallableJob | undefined, reason: KillReason, graceMs: number, log: Logger, jobId: string): void {
  if (!running) return
  running.killReason ??= reason
  running.process.terminate(graceMs).catch((err: unknown) => log.error({ err, jobId }, 'kill failed'))
}

/** One signal to the job's group (SIGTERM: the whole kill sequence); an ending signal makes the job end `cancelled`. */
export function signalJob (running: SignallableJob | undefined, signal: NodeJS.Signals, graceMs: number, log: Logger, jobId: string): void {
  if (!running) return
  if (signal === 'SIGTERM') return terminateJob(running, 'cancel', graceMs, log, jobId)
  if (ENDING_SIGNALS.has(signal)) running.killReason ??= 'cancel'
  running.process.signal(signal)
}
