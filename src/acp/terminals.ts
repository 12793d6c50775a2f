import {
  RequestError,
  type CreateTerminalRequest, type TerminalExitStatus, type TerminalOutputResponse,
} from '@agentclientprotocol/sdk'
import { execa } from 'execa'
import { groupAlive, terminateGroup } from '../exec/process-group.js'
import { completeLength, decodeUtf8, leadingContinuationBytes } from '../lib/utf8.js'
import { ByteTail } from './byte-tail.js'
import type { Logger } from '../logger.js'
import { listenForErrors } from '../lib/child-errors.js'
import { DETACHED_OPTIONS, spawned } from './detached-process.js'
import type { Sandbox } from './paths.js'
import { SessionTerminal, sessionCommandLine } from './session-terminal.js'
import type { SessionTerminalRunner } from './types.js'
import { errorMessage } from '../lib/error-message.js'

// Output kept per terminal when the agent sets no `outputByteLimit`.
const DEFAULT_OUTPUT_LIMIT_BYTES = 1024 * 1024
// Terminals one run may have at once (each is a process group).
const MAX_TERMINALS = 64
// After SIGTERM, how long a terminal's group has before SIGKILL.
const TERMINAL_KILL_GRACE_MS = 1500

// stdout and stderr merged into one stream (execa's `all`), nothing on stdin.
const TERMINAL_OPTIONS = { ...DETACHED_OPTIONS, stdin: 'ignore', all: true } as const
const spawnTerminal = (file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) =>
  execa(file, args, { ...TERMINAL_OPTIONS, cwd, env })
type TerminalSubprocess = ReturnType<typeof spawnTerminal>

/** What every terminal offers the agent's requests, whatever runs its command. */
export interface AgentTerminal {
  readonly id: string
  readonly ended: Promise<TerminalExitStatus>
  readonly exitStatus: TerminalExitStatus | null
  output: () => TerminalOutputResponse
  kill: () => Promise<void>
}

// One terminal: a command in its own process group, its merged output (a bounded tail) and its end.
class Terminal implements AgentTerminal {
  readonly id: string
  readonly pid: number
  readonly ended: Promise<TerminalExitStatus>
  exitStatus: TerminalExitStatus | null = null
  readonly #output: ByteTail
  #killing: Promise<void> | undefined

  constructor (id: string, subprocess: TerminalSubprocess, limit: number, log: Logger | undefined) {
    this.id = id
    this.pid = subprocess.pid as number
    listenForErrors(subprocess, (err, where) => log?.debug({ err, where, terminalId: id, commandPid: this.pid }, 'ACP terminal process error'))
    this.#output = new ByteTail(limit)
    subprocess.all.on('data', (chunk: Buffer) => this.#output.push(chunk))
    // Why execa's result: it settles once the output is drained, so the output is complete when the exit is seen.
    this.ended = Promise.resolve(subprocess).then((result) => {
      this.exitStatus = { exitCode: result.exitCode ?? null, signal: result.signal ?? null }
      return this.exitStatus
    })
  }

  /** The output so far: the last `limit` bytes, never starting or (while running) ending inside a character. */
  output (): TerminalOutputResponse {
    let { bytes, truncated } = this.#output.bytes()
    if (truncated) bytes = bytes.subarray(leadingContinuationBytes(bytes))
    if (this.exitStatus === null) bytes = bytes.subarray(0, completeLength(bytes))
    return { output: decodeUtf8(bytes), truncated, ...(this.exitStatus ? { exitStatus: this.exitStatus } : {}) }
  }

  /** SIGTERM to the terminal's group, SIGKILL after the grace; resolves when the command has ended. */
  kill (): Promise<void> {
    this.#killing ??= (async () => {
      await terminateGroup(this.pid, TERMINAL_KILL_GRACE_MS, () => this.exitStatus !== null && !groupAlive(this.pid))
      await this.ended
    })()
    return this.#killing
  }
}

/** What a terminal was started with, for the event log. */
export interface TerminalStart {
  terminalId: string
  command: string
  args: string[]
  cwd: string
  /** Settles when the command has ended. */
  ended: Promise<TerminalExitStatus>
}

/**
 * The agent's terminal/* requests. A command without `args` is a shell line and runs through
 * `/bin/sh -c`; stdout and stderr are merged; cwd must be inside the workdir. With a session
 * runner (ACP `persistent_session_key`), commands run one after another in that persistent shell
 * session instead: `cd` to the checked cwd, then the command, so its state carries over.
 */
export class AcpTerminals {
  readonly #sandbox: Sandbox
  readonly #env: NodeJS.ProcessEnv
  readonly #session: SessionTerminalRunner | undefined
  readonly #log: Logger | undefined
  readonly #terminals = new Map<string, AgentTerminal>()
  #next = 1

  constructor (sandbox: Sandbox, env: NodeJS.ProcessEnv, session?: SessionTerminalRunner, log?: Logger) {
    this.#sandbox = sandbox
    this.#env = env
    this.#session = session
    this.#log = log
  }

  /** Starts the command and returns at once; its output collects in the background. */
  async create (params: CreateTerminalRequest): Promise<TerminalStart> {
    if (this.#terminals.size >= MAX_TERMINALS) throw RequestError.internalError(undefined, `at most ${MAX_TERMINALS} terminals at once`)
    const cwd = this.#sandbox.resolve(params.cwd ?? this.#sandbox.root)
    if (cwd === null) throw RequestError.invalidParams({ cwd: params.cwd }, `cwd outside the workdir ${this.#sandbox.root}`)
    const args = params.args ?? []
    const limit = params.outputByteLimit ?? DEFAULT_OUTPUT_LIMIT_BYTES
    if (this.#session) {
      const id = `term-${this.#next++}`
      let terminal: SessionTerminal
      try {
        terminal = new SessionTerminal(id, this.#session.start(id, sessionCommandLine(cwd, params.command, args)), limit)
      } catch (err) {
        throw RequestError.internalError({ command: params.command }, `cannot start the command: ${errorMessage(err)}`)
      }
      this.#terminals.set(id, terminal)
      return { terminalId: id, command: params.command, args, cwd, ended: terminal.ended }
    }
    const [file, argv] = args.length === 0 ? ['/bin/sh', ['-c', params.command]] : [params.command, args]
    const env = { ...this.#env }
    for (const variable of params.env ?? []) env[variable.name] = variable.value
    const subprocess = spawnTerminal(file, argv, cwd, env)
    try {
      await spawned(subprocess, subprocess)
    } catch (err) {
      throw RequestError.internalError({ command: params.command }, `cannot start the command: ${errorMessage(err)}`)
    }
    const terminal = new Terminal(`term-${this.#next++}`, subprocess, limit, this.#log)
    this.#terminals.set(terminal.id, terminal)
    return { terminalId: terminal.id, command: params.command, args, cwd, ended: terminal.ended }
  }

  output (terminalId: string): TerminalOutputResponse {
    return this.#get(terminalId).output()
  }

  /** Resolves when the command has ended (other requests are served meanwhile). */
  waitForExit (terminalId: string): Promise<TerminalExitStatus> {
    return this.#get(terminalId).ended
  }

  /** Kills the command; the terminal stays readable until released. */
  async kill (terminalId: string): Promise<void> {
    await this.#get(terminalId).kill()
  }

  /** Kills the command if it still runs and forgets the terminal. */
  async release (terminalId: string): Promise<TerminalExitStatus | null> {
    const terminal = this.#get(terminalId)
    this.#terminals.delete(terminalId)
    await terminal.kill()
    return terminal.exitStatus
  }

  /** Ends every terminal (the turn is over): kills what still runs and forgets them all. */
  async releaseAll (): Promise<void> {
    const all = [...this.#terminals.values()]
    this.#terminals.clear()
    await Promise.all(all.map((t) => t.kill()))
  }

  /** Stops every running terminal, keeping them readable (the turn is being cancelled). */
  async killAll (): Promise<void> {
    await Promise.all([...this.#terminals.values()].map((t) => t.kill()))
  }

  #get (terminalId: string): AgentTerminal {
    const terminal = this.#terminals.get(terminalId)
    if (!terminal) throw RequestError.invalidParams({ terminalId }, `unknown terminal ${terminalId}`)
    return terminal
  }
}
