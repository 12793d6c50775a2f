import type { Logger } from 'pino'
import { signalSession } from '../exec/process-group.js'
import { waitUntil } from '../lib/wait.js'
import { AFTER_KILL_WAIT_MS } from './kill-command.js'
import { ShellProcess, type ShellPaths } from './shell-process.js'
import type { SessionState } from './state-file.js'

/** What a session's shell holder is given by its session. */
export interface SessionShellHooks {
  state: SessionState
  paths: ShellPaths
  /** The session's logger (it names the session). */
  log: Logger
  /** The saved state changed in more than lastUsedAt. */
  changed: () => void
  /** Saves the state (when it changed). */
  save: () => void
  /** A shell this holder took ended (it may have been forgotten or replaced since). */
  exited: (shell: ShellProcess) => void
}

/** The shell of one session: started from its seed, taken over from an earlier server, or forgotten; keeps the state's pid fields in step. */
export class SessionShell {
  readonly #hooks: SessionShellHooks
  #current: ShellProcess | null = null

  constructor (hooks: SessionShellHooks) {
    this.#hooks = hooks
  }

  /** The shell held, alive or not; null when there is none. */
  get current (): ShellProcess | null {
    return this.#current
  }

  /** The live shell: the one held, or a new one started from the session's seed. */
  async ensure (): Promise<ShellProcess> {
    if (this.#current?.alive) return this.#current
    if (this.#current) this.forget()
    const { state } = this.#hooks
    const shell = await ShellProcess.start({
      kind: state.shell as 'bash' | 'zsh' | 'sh',
      shellPath: state.shellPath,
      paths: this.#hooks.paths,
      cwd: state.seed.workdir,
      env: state.seed.env,
    })
    state.pid = shell.pid
    state.startTime = shell.startTime
    state.createdAt = Date.now() / 1000
    state.bootstrapApplied = false
    this.#hooks.changed()
    this.#attach(shell)
    this.#hooks.save()
    return shell
  }

  /** Takes over the shell the saved state names if it is still that process; else forgets it. */
  adoptSaved (): ShellProcess | null {
    const { state } = this.#hooks
    const shell = state.pid !== null ? ShellProcess.adopt(state.pid, state.startTime, this.#hooks.paths) : null
    if (shell) this.#attach(shell)
    else this.forget()
    return shell
  }

  /** Lets the shell go: its session id joins the former ones (killed when the session ends). */
  forget (): void {
    const { state } = this.#hooks
    if (state.pid !== null && !state.formerSids.includes(state.pid)) state.formerSids.push(state.pid)
    state.pid = null
    state.startTime = null
    state.bootstrapApplied = false
    this.#hooks.changed()
    this.#current?.detach()
    this.#current = null
  }

  /**
   * The session ends: SIGKILL to every process of the shell's session and of earlier shells' (sent
   * before the first await); resolves once the shell is gone, holding no shell and leaving the state alone.
   */
  async end (): Promise<void> {
    const shell = this.#current
    for (const sid of [...this.#hooks.state.formerSids, ...(shell ? [shell.pid] : [])]) signalSession(sid, 'SIGKILL')
    if (shell) {
      await Promise.race([shell.exited, waitUntil(() => !shell.alive, AFTER_KILL_WAIT_MS)])
      shell.detach()
    }
    this.#current = null
  }

  #attach (shell: ShellProcess): void {
    this.#current = shell
    shell.exited.then(() => { this.#hooks.exited(shell) }).catch((err: unknown) => {
      this.#hooks.log.error({ err }, 'session shell exit handling failed')
    })
  }
}
