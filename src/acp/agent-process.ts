import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { once } from 'node:events'
import { groupAlive, signalGroup } from '../exec/process-group.js'
import { decodeUtf8, leadingContinuationBytes } from '../lib/utf8.js'
import { waitUntil } from '../lib/wait.js'

// How much of the agent's stderr is kept for results and error messages.
const STDERR_TAIL_BYTES = 64 * 1024
// How much of that tail an error message quotes.
const ERROR_STDERR_CHARS = 2000
const AFTER_KILL_WAIT_MS = 5000

/** How the agent process ended. */
export interface AgentExit {
  exitCode: number | null
  signal: string | null
}

/** The agent is gone (or stopped talking) while a request was waiting. */
export class AgentGoneError extends Error {}

// The last bytes of a stream, bounded: the stream is always drained, the memory never grows.
class ByteTail {
  #chunks: Buffer[] = []
  #bytes = 0
  readonly #limit: number

  constructor (limit: number) {
    this.#limit = limit
  }

  push (chunk: Buffer): void {
    this.#chunks.push(chunk)
    this.#bytes += chunk.length
    while (this.#chunks.length > 1 && this.#bytes - (this.#chunks[0] as Buffer).length >= this.#limit) {
      this.#bytes -= (this.#chunks.shift() as Buffer).length
    }
  }

  text (): string {
    const all = Buffer.concat(this.#chunks)
    const tail = all.length > this.#limit ? all.subarray(all.length - this.#limit) : all
    return decodeUtf8(tail.subarray(all.length > this.#limit ? leadingContinuationBytes(tail) : 0))
  }
}

/** How to start an agent. */
export interface AgentSpawnOptions {
  argv: readonly string[]
  cwd: string
  env: NodeJS.ProcessEnv
  onStderr?: ((chunk: Buffer) => void) | undefined
}

// The agent's process: its own process group, stdio pipes, a drained stderr tail, and its end.
export class AgentProcess {
  readonly pid: number
  readonly child: ChildProcessWithoutNullStreams
  /** Resolves when the agent process has exited. */
  readonly exited: Promise<AgentExit>
  #exit: AgentExit | null = null
  readonly #stderr = new ByteTail(STDERR_TAIL_BYTES)
  #stopping: Promise<void> | undefined

  private constructor (child: ChildProcessWithoutNullStreams, onStderr: AgentSpawnOptions['onStderr']) {
    this.child = child
    this.pid = child.pid as number
    this.exited = new Promise((resolve) => {
      child.once('exit', (exitCode, signal) => {
        this.#exit = { exitCode, signal }
        resolve(this.#exit)
      })
    })
    child.stderr.on('data', (chunk: Buffer) => {
      this.#stderr.push(chunk)
      onStderr?.(chunk)
    })
    // Why: writing to an agent that died raises EPIPE on stdin; the exit is reported instead.
    child.stdin.on('error', () => {})
  }

  /** Starts the agent in a new process group; throws when it cannot be started (e.g. not found). */
  static async start (options: AgentSpawnOptions): Promise<AgentProcess> {
    const [command, ...args] = options.argv
    if (command === undefined) throw new Error('the agent command is empty')
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] })
    try {
      await Promise.race([once(child, 'spawn'), once(child, 'error').then(([err]) => { throw err })])
    } catch (err) {
      throw new Error(`cannot start the agent ${JSON.stringify(command)}: ${(err as Error).message}`, { cause: err })
    }
    return new AgentProcess(child, options.onStderr)
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
    this.#stopping ??= (async () => {
      const allGone = (): boolean => this.#exit !== null && !groupAlive(this.pid)
      if (allGone()) return
      signalGroup(this.pid, 'SIGTERM')
      if (await waitUntil(allGone, graceMs)) return
      signalGroup(this.pid, 'SIGKILL')
      await waitUntil(allGone, AFTER_KILL_WAIT_MS)
    })()
    return this.#stopping
  }
}
