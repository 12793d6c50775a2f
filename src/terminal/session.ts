import { randomBytes } from 'node:crypto'
import * as pty from 'node-pty'
import type { WebSocket } from 'ws'
import type { TerminalInfo } from '../contract/terminal.js'
import { sessionMembers, signalName, signalSession } from '../exec/process-group.js'
import { setLongTimeout, type LongTimer } from '../lib/long-timer.js'
import { guardPty, type PtyInput } from '../lib/pty-guard.js'
import { waitUntil } from '../lib/wait.js'
import type { Logger } from '../logger.js'
import { FlowControl } from './flow-control.js'
import { controlFrame, type ControlMessage, type TerminalEndReason } from './protocol.js'
import { Screen } from './screen.js'

// After SIGHUP, how long the session's processes get before SIGKILL.
const END_GRACE_MS = 1000

/** What to start: a shell in a directory, at a size, optionally typing a first command. */
export interface TerminalSpec {
  shell: string
  args: string[]
  workdir: string
  env: NodeJS.ProcessEnv
  cols: number
  rows: number
  command?: string
}

/** How long a terminal may live: without input, in total, and without any client. */
export interface TerminalTimeouts {
  idleMs: number
  lifetimeMs: number
  orphanTtlMs: number
}

/** What GET /terminals shows about one terminal. */
export type { TerminalInfo }

interface Client {
  socket: WebSocket
  readonly: boolean
  /** Live output held back while the client's screen replay is being prepared. */
  held: string[] | null
}

/**
 * One shell on a PTY, with the clients watching it. It outlives its sockets (until the orphan
 * TTL), and when it ends, for whatever reason, every process of its session ends with it.
 */
export class TerminalSession {
  readonly id = randomBytes(12).toString('base64url')
  readonly pid: number
  readonly shell: string
  readonly workdir: string
  readonly createdAt = Date.now()
  #lastInputAt: number | null = null
  #cols: number
  #rows: number
  readonly #pty: pty.IPty
  readonly #input: PtyInput
  readonly #screen: Screen
  readonly #clients = new Set<Client>()
  readonly #log: Logger
  readonly #timeouts: TerminalTimeouts
  #idleTimer: LongTimer
  readonly #lifetimeTimer: LongTimer
  #orphanTimer: LongTimer | null = null
  readonly #flow: FlowControl
  #endReason: TerminalEndReason | null = null
  readonly #ended: Promise<void>
  #invalidFrames = 0

  /** Starts the shell; throws when it cannot be spawned. `onEnded` runs once, after every process of it is gone. */
  constructor (spec: TerminalSpec, timeouts: TerminalTimeouts, log: Logger, onEnded: (session: TerminalSession) => void) {
    this.#pty = pty.spawn(spec.shell, spec.args, {
      name: 'xterm-256color',
      cols: spec.cols,
      rows: spec.rows,
      cwd: spec.workdir,
      env: spec.env,
    })
    this.pid = this.#pty.pid
    this.shell = spec.shell
    this.workdir = spec.workdir
    this.#cols = spec.cols
    this.#rows = spec.rows
    this.#timeouts = timeouts
    this.#log = log.child({ terminalId: this.id, pid: this.pid })
    this.#screen = new Screen(spec.cols, spec.rows)
    this.#pty.onData((data) => this.#output(data))
    // Why logging is enough for a read error: the exit still follows.
    this.#input = guardPty(this.#pty, (tail) => this.#output(tail.toString('utf8')), (err) => this.#log.warn({ err }, 'terminal read failed'))
    this.#flow = new FlowControl(this.#pty, () => [...this.#clients].map((client) => client.socket), (socket) => {
      this.#log.warn('disconnecting a client that stopped reading')
      socket.terminate()
    })
    this.#ended = new Promise((resolve) => {
      this.#pty.onExit(({ exitCode, signal }) => {
        this.#finish(exitCode, signal)
          .catch((err: unknown) => this.#log.error({ err }, 'terminal cleanup failed'))
          .finally(() => {
            resolve()
            onEnded(this)
          })
      })
    })
    this.#idleTimer = setLongTimeout(() => this.#idleCheck(), timeouts.idleMs)
    this.#lifetimeTimer = setLongTimeout(() => this.#endInBackground('lifetime reached'), timeouts.lifetimeMs)
    // Why: the command is typed like a user would, never spliced into a shell string of ours.
    if (spec.command !== undefined && spec.command !== '') this.#input.write(spec.command + '\r')
    this.#log.info({ shell: spec.shell }, 'terminal started')
  }

  get ending (): boolean {
    return this.#endReason !== null
  }

  info (): TerminalInfo {
    return {
      id: this.id,
      pid: this.pid,
      shell: this.shell,
      workdir: this.workdir,
      createdAt: new Date(this.createdAt).toISOString(),
      lastInputAt: this.#lastInputAt === null ? null : new Date(this.#lastInputAt).toISOString(),
      clients: this.#clients.size,
      cols: this.#cols,
      rows: this.#rows,
    }
  }

  /**
   * Adds a client: it receives the `session` frame, then (when `replay`) the current screen,
   * then live output. Returns the handle to pass to `input`, `resize` and `detach`.
   */
  attach (socket: WebSocket, readonly: boolean, replay: boolean): Client {
    this.#orphanTimer?.clear()
    this.#orphanTimer = null
    const client: Client = { socket, readonly, held: replay ? [] : null }
    this.#clients.add(client)
    this.#send(client, controlFrame({ type: 'session', id: this.id, cols: this.#cols, rows: this.#rows, readonly, replay }))
    if (replay) {
      this.#screen.snapshot().then((screen) => {
        // Why: ESC c resets the client's terminal, so the replay draws on a clean screen.
        this.#send(client, '\u001bc' + screen + (client.held ?? []).join(''))
        client.held = null
      }).catch((err: unknown) => this.#log.error({ err }, 'screen replay failed'))
    }
    return client
  }

  detach (client: Client): void {
    if (!this.#clients.delete(client)) return
    if (this.#clients.size === 0 && !this.ending) {
      this.#orphanTimer = setLongTimeout(() => this.#endInBackground('orphaned'), this.#timeouts.orphanTtlMs)
    }
  }

  input (client: Client, data: string): void {
    if (client.readonly || this.ending) return
    if (data !== '') this.#lastInputAt = Date.now()
    this.#input.write(data)
  }

  resize (client: Client, cols: number, rows: number): void {
    if (client.readonly || this.ending) return
    this.#cols = cols
    this.#rows = rows
    this.#pty.resize(cols, rows)
    this.#screen.resize(cols, rows)
  }

  pong (client: Client): void {
    this.#send(client, controlFrame({ type: 'pong' }))
  }

  /** Counts a frame that was not understood (it is otherwise ignored). */
  ignoreFrame (): void {
    this.#invalidFrames++
    if (this.#invalidFrames === 1 || this.#invalidFrames % 1000 === 0) this.#log.debug({ invalidFrames: this.#invalidFrames }, 'invalid terminal frames ignored')
  }

  /** Ends the terminal: SIGHUP to its whole session, SIGKILL to what is left after a grace. Resolves when all are gone. */
  async end (reason: TerminalEndReason): Promise<void> {
    if (this.#endReason === null) {
      this.#endReason = reason
      this.#log.info({ reason }, 'ending terminal')
      this.#flow.release()
      await this.#killSession()
    }
    return this.#ended
  }

  /** Ends the terminal when nothing was typed for the idle timeout; otherwise waits for the rest of it. */
  #idleCheck (): void {
    const quietMs = Date.now() - (this.#lastInputAt ?? this.createdAt)
    if (quietMs >= this.#timeouts.idleMs) return this.#endInBackground('idle timeout')
    // Why not re-armed on every keystroke: input is hot, and the last input time is already kept.
    this.#idleTimer = setLongTimeout(() => this.#idleCheck(), this.#timeouts.idleMs - quietMs)
  }

  #endInBackground (reason: TerminalEndReason): void {
    this.end(reason).catch((err: unknown) => this.#log.error({ err }, 'ending terminal failed'))
  }

  /** Runs once the shell exited: ends the rest of its session, then tells the clients and closes them. */
  async #finish (exitCode: number, signal: number | undefined): Promise<void> {
    this.#idleTimer.clear()
    this.#lifetimeTimer.clear()
    this.#orphanTimer?.clear()
    this.#flow.release()
    const reason = this.#endReason ?? 'exited'
    this.#endReason = reason
    await this.#killSession()
    const signalText = signal ? signalName(signal) ?? String(signal) : null
    this.#log.info({ exitCode, signal: signalText, reason }, 'terminal ended')
    const exit: ControlMessage = { type: 'exit', exitCode: signalText ? null : exitCode, signal: signalText, reason }
    for (const client of this.#clients) {
      this.#send(client, controlFrame(exit))
      client.socket.close(1000, reason)
    }
    this.#clients.clear()
    this.#screen.close()
  }

  async #killSession (): Promise<void> {
    if (sessionMembers(this.pid).length === 0) return
    signalSession(this.pid, 'SIGHUP')
    await waitUntil(() => sessionMembers(this.pid).length === 0, END_GRACE_MS)
    const killed = signalSession(this.pid, 'SIGKILL')
    if (killed > 0) this.#log.info({ killed }, 'killed processes left in the terminal session')
  }

  #output (data: string): void {
    this.#screen.write(data)
    for (const client of this.#clients) {
      if (client.held) client.held.push(data)
      else this.#send(client, data)
    }
    this.#flow.check()
  }

  #send (client: Client, frame: string): void {
    if (client.socket.readyState !== client.socket.OPEN) return
    client.socket.send(frame)
  }
}

export type { Client as TerminalClient }
