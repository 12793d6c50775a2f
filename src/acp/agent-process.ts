import type { Readable, Writable } from 'node:stream'
import { finished } from 'node:stream/promises'
import { execa } from 'execa'
import { groupAlive, terminateGroup } from '../exec/process-group.js'
import { ByteTail } from './byte-tail.js'
import type { Logger } from '../logger.js'
import { listenForErrors } from '../lib/child-errors.js'
import { DETACHED_OPTIONS, spawned } from './detached-process.js'
import { errorMessage } from '../lib/error-message.js'

// How much of the agent's stderr is kept for results and error messages.
const STDERR_TAIL_BYTES = 64 * 1024
// How much of that tail an error message quotes.
const ERROR_STDERR_CHARS = 2000

/** How the agent process ended. */
export interface AgentExit {
  exitCode: number | null
  signal: string | null
}

/** The agent is gone (or stopped talking) while a request was waiting. */
export class AgentGoneError extends Error {}

/** How to start an agent. */
export interface AgentSpawnOptions {
  argv: readonly string[]
  cwd: string
  env: NodeJS.ProcessEnv
  onStderr?: ((chunk: Buffer) => void) | undefined
  /** Where errors of the process and its pipes after the start are logged (debug); they never throw. */
  log?: Logger | undefined
}

const AGENT_OPTIONS = { ...DETACHED_OPTIONS, stdin: 'pipe', stdout: 'pipe', stderr: 'pipe' } as const
const spawnAgent = (command: string, args: string[], options: AgentSpawnOptions) =>
  execa(command, args, { ...AGENT_OPTIONS, cwd: options.cwd, env: options.env })
type AgentSubprocess = ReturnType<typeof spawnAgent>

// The agent's process (execa): its own process group, stdio pipes, a drained stderr tail, and its end.
export class AgentProcess {
  readonly pid: number
  /** Resolves when the agent process has exited (not waiting for pipes that its children may hold). */
  readonly exited: Promise<AgentExit>
  /** Resolves when the agent has exited and its stderr has ended (so the tail is complete). */
  readonly drained: Promise<void>
  readonly #subprocess: AgentSubprocess
  #exit: AgentExit | null = null
  readonly #stderr = new ByteTail(STDERR_TAIL_BYTES)
  #stopping: Promise<void> | undefined

  private constructor (subprocess: AgentSubprocess, options: AgentSpawnOptions) {
    const { onStderr, log } = options
    this.#subprocess = subprocess
    this.pid = subprocess.pid as number
    // A pipe error (EPIPE on stdin when the agent died, …) is followed by the exit, which is what is reported.
    listenForErrors(subprocess, (err, where) => log?.debug({ err, where, agentPid: this.pid }, 'agent process error'))
    // Why 'exit', not execa's result: the result waits for the pipes, which a grandchild may keep open.
    this.exited = new Promise((resolve) => {
      subprocess.once('exit', (exitCode, signal) => {
        this.#exit = { exitCode, signal }
        resolve(this.#exit)
      })
    })
    // Why: the exit can be seen before the last stderr chunk; error messages quote that tail.
    this.drained = Promise.all([this.exited, finished(subprocess.stderr).catch(() => {})]).then(() => {})
    subprocess.stderr.on('data', (chunk: Buffer) => {
      this.#stderr.push(chunk)
      onStderr?.(chunk)
    })
  }

  /** Starts the agent in a new process group; throws when it cannot be started (e.g. not found). */
  static async start (options: AgentSpawnOptions): Promise<AgentProcess> {
    const [command, ...args] = options.argv
    if (command === undefined) throw new Error('the agent command is empty')
    const subprocess = spawnAgent(command, args, options)
    try {
      await spawned(subprocess, subprocess)
    } catch (err) {
      throw new Error(`cannot start the agent ${JSON.stringify(command)}: ${errorMessage(err)}`, { cause: err })
    }
    return new AgentProcess(subprocess, options)
  }

  /** The agent's stdin (our messages to it). */
  get stdin (): Writable {
    return this.#subprocess.stdin
  }

  /** The agent's stdout (its messages to us). */
  get stdout (): Readable {
    return this.#subprocess.stdout
  }

  /** How it ended, or null while it runs. */
  get exit (): AgentExit | null {
    return this.#exit
  }

  /** The end of what the agent wrote to stderr. */
  stderrTail (): string {
    return this.#stderr.text()
  }

  /** Says how the agent ended, with the end of its stderr, for error messages. */
  describeExit (while_: string): string {
    const exit = this.#exit
    const how = exit === null
      ? 'closed its output'
      : exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${exit.exitCode}`
    const stderr = this.stderrTail().trim().slice(-ERROR_STDERR_CHARS)
    return `the agent ${how} ${while_}${stderr === '' ? '' : `; stderr: ${stderr}`}`
  }

  /**
   * Ends the whole process group: SIGTERM, then SIGKILL after `graceMs` if anything is left.
   * Resolves when the agent and everything it started in its group are gone.
   */
  stop (graceMs: number): Promise<void> {
    this.#stopping ??= terminateGroup(this.pid, graceMs, () => this.#exit !== null && !groupAlive(this.pid))
    return this.#stopping
  }
}
