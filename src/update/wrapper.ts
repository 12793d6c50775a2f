import type { Logger } from '../logger.js'
import { sleepLong } from '../lib/long-sleep.js'
import { DEFAULT_BACKOFF, RestartBackoff, type BackoffOptions } from './backoff.js'
import { startChild, type CommandSpec, type RunningChild } from './child.js'
import { classifyExit, EXIT_CONFIG, EXIT_FAILURE, EXIT_OK } from './child-exit.js'
import { fillVersion, readVersion, runShellCommand } from './commands.js'
import { waitForHealthy } from './health.js'

/** What `agent-server --wrapper` needs to supervise, update and roll back the server. */
export interface WrapperOptions {
  /** How to start the server (the CLI passes node, the CLI path and the user's arguments minus --wrapper). */
  child: CommandSpec
  /** Installs the new version; run through /bin/sh -c. */
  updateCommand: string
  /** Reinstalls the previous version; `{version}` is replaced by it. Run through /bin/sh -c. */
  rollbackCommand: string
  /** Prints the installed version on stdout. */
  versionCommand: CommandSpec
  /** Unauthenticated GET that answers 200 once the server is up. */
  healthUrl: string
  /** After an update, the new server must answer `healthUrl` and not crash within this. Default 60 s. */
  healthDeadlineMs?: number
  /** Restart delays after crashes. Default 1 s doubling to 60 s, reset after 10 minutes of running. */
  backoff?: BackoffOptions
  /** After a forwarded stop (or a failed health check), the child's group is killed after this. Default 30 s. */
  stopGraceMs?: number
  /** The root logger; the wrapper's lines carry `component: 'wrapper'` and an `event`. */
  log: Logger
  /** Aborting it stops the wrapper like a SIGTERM. */
  signal?: AbortSignal
}

export const DEFAULT_HEALTH_DEADLINE_MS = 60_000
export const DEFAULT_STOP_GRACE_MS = 30_000
// Signals the wrapper forwards to the child instead of dying.
const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM']

/**
 * Runs the server as a child and keeps it running: update on exit 42 (with rollback when the new
 * version is unhealthy), restart after crashes with backoff, stop when asked. Resolves with the
 * wrapper's exit code.
 */
export async function runWrapper (options: WrapperOptions): Promise<number> {
  const supervisor = new Supervisor(options)
  const onSignal = (signal: NodeJS.Signals): void => supervisor.requestStop(signal)
  const onAbort = (): void => supervisor.requestStop('SIGTERM')
  for (const signal of FORWARDED_SIGNALS) process.on(signal, onSignal)
  options.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    if (options.signal?.aborted === true) onAbort()
    return await supervisor.run()
  } finally {
    for (const signal of FORWARDED_SIGNALS) process.off(signal, onSignal)
    options.signal?.removeEventListener('abort', onAbort)
  }
}

// One wrapper run: the current child, the stop request and the crash streak.
class Supervisor {
  readonly #options: WrapperOptions
  readonly #log: Logger
  readonly #stop = new AbortController()
  readonly #backoff: RestartBackoff
  readonly #healthDeadlineMs: number
  readonly #graceMs: number
  #child: RunningChild | undefined

  constructor (options: WrapperOptions) {
    this.#options = options
    this.#log = options.log.child({ component: 'wrapper' })
    this.#backoff = new RestartBackoff(options.backoff ?? DEFAULT_BACKOFF)
    this.#healthDeadlineMs = options.healthDeadlineMs ?? DEFAULT_HEALTH_DEADLINE_MS
    this.#graceMs = options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS
  }

  /** Forwards a stop signal to the child (every time it comes) and ends the loop once it exits. */
  requestStop (signal: NodeJS.Signals): void {
    try {
      this.#log.info({ event: 'stop', signal, childPid: this.#child?.pid }, 'stopping')
      this.#stop.abort()
      this.#child?.stop(signal)
    } catch (err) {
      this.#log.error({ err, event: 'stop' }, 'stop failed')
    }
  }

  async run (): Promise<number> {
    let code: number
    try {
      code = await this.#loop()
    } catch (err) {
      this.#log.error({ err, event: 'wrapper-error' }, 'wrapper failed')
      this.#child?.stop('SIGTERM')
      await this.#child?.exited
      code = EXIT_FAILURE
    }
    this.#log.info({ event: 'exit', code }, 'wrapper exiting')
    return code
  }

  async #loop (): Promise<number> {
    // The version to roll back to while a freshly updated child is on probation.
    let previous: string | undefined
    for (;;) {
      if (this.#stop.signal.aborted) return EXIT_OK
      const child = startChild(this.#options.child, this.#log, this.#graceMs)
      this.#child = child
      const startedAt = Date.now()
      // A stop during probation falls through: the child got the signal and its exit ends the loop.
      if (previous !== undefined && !(await this.#becomesHealthy(child)) && !this.#stop.signal.aborted) {
        this.#log.warn({ event: 'unhealthy', childPid: child.pid, deadlineMs: this.#healthDeadlineMs }, 'updated server did not become healthy')
        child.stop('SIGTERM')
        const exit = await child.exited
        this.#log.info({ event: 'child-exit', childPid: child.pid, code: exit.code, signal: exit.signal, kind: 'unhealthy' }, 'child exited')
        await this.#rollback(previous)
        previous = undefined
        continue
      }
      const exit = await child.exited
      const ranMs = Date.now() - startedAt
      const kind = classifyExit(exit, this.#stop.signal.aborted)
      this.#log.info({ event: 'child-exit', childPid: child.pid, code: exit.code, signal: exit.signal, ranMs, kind }, 'child exited')
      if (kind === 'stopped' || kind === 'clean') return EXIT_OK
      if (previous !== undefined && ranMs < this.#healthDeadlineMs && (kind === 'crash' || kind === 'config')) {
        await this.#rollback(previous)
        previous = undefined
        continue
      }
      previous = undefined
      if (kind === 'update') {
        previous = await this.#update()
        this.#log.info({ event: 'restart', reason: 'update', delayMs: 0 }, 'restarting')
        continue
      }
      if (kind === 'config') {
        this.#log.error({ event: 'config-error', code: exit.code }, 'server refused its configuration; not restarting')
        return EXIT_CONFIG
      }
      const { delayMs, attempt } = this.#backoff.next(ranMs)
      this.#log.info({ event: 'restart', reason: 'crash', delayMs, attempt }, 'restarting')
      await sleepLong(delayMs, this.#stop.signal)
    }
  }

  // Probation of an updated child: true once it answers /health, false when the deadline passes,
  // the child exits first (its exit is judged by the loop) or a stop comes.
  async #becomesHealthy (child: RunningChild): Promise<boolean> {
    const done = new AbortController()
    const signal = AbortSignal.any([done.signal, this.#stop.signal])
    const startedAt = Date.now()
    try {
      const verdict = await Promise.race([
        child.exited.then(() => 'exited' as const),
        waitForHealthy(this.#options.healthUrl, this.#healthDeadlineMs, signal).then((ok) => ok ? 'healthy' as const : 'unhealthy' as const),
      ])
      if (verdict === 'healthy') this.#log.info({ event: 'healthy', childPid: child.pid, ms: Date.now() - startedAt }, 'updated server is healthy')
      return verdict !== 'unhealthy'
    } finally {
      done.abort()
    }
  }

  // Records the installed version, then runs the update command. Returns the recorded version.
  async #update (): Promise<string | undefined> {
    const version = await readVersion(this.#options.versionCommand, this.#log)
    if (version === undefined) this.#log.warn({ event: 'version' }, 'previous version unknown; no rollback possible')
    else this.#log.info({ event: 'version', version }, 'recorded previous version')
    const command = this.#options.updateCommand
    this.#log.info({ event: 'update', command, previousVersion: version }, 'updating')
    const result = await runShellCommand(command, 'update-output', this.#log, this.#stop.signal, this.#graceMs)
    const ok = result.code === 0
    this.#log[ok ? 'info' : 'error']({ event: 'update-done', code: result.code, signal: result.signal }, ok ? 'update finished' : 'update failed')
    return version
  }

  async #rollback (version: string): Promise<void> {
    const command = fillVersion(this.#options.rollbackCommand, version)
    this.#log.warn({ event: 'rollback', version, command }, 'rolling back')
    const result = await runShellCommand(command, 'rollback-output', this.#log, this.#stop.signal, this.#graceMs)
    const ok = result.code === 0
    this.#log[ok ? 'info' : 'error']({ event: 'rollback-done', version, code: result.code, signal: result.signal }, ok ? 'rollback finished' : 'rollback failed')
    this.#log.info({ event: 'restart', reason: 'rollback', delayMs: 0 }, 'restarting')
  }
}
