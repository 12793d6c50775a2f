import { closeSync, createWriteStream, openSync, type WriteStream } from 'node:fs'
import * as pty from 'node-pty'
import { guardPty, type PtyInput } from '../lib/pty-guard.js'
import type { JobFiles } from './job-files.js'
import type { ProcessEnd } from './process-end.js'
import { groupAlive, isSignalName, processStartTime, sessionMembers, signalGroup, signalName, signalSession, terminateGroup } from './process-group.js'

/** How to start a job on a PTY: `shell -c command` at a window size. */
export interface PtySpawnOptions {
  files: JobFiles
  command: string
  shell: string
  cwd: string
  env: NodeJS.ProcessEnv
  cols: number
  rows: number
  /** The terminal type (TERM). */
  term: string
}

/**
 * One job's process on a PTY (a tty job): its output (stdout and stderr merged, as a terminal
 * does) goes to the job's stdout file through the server, which holds the PTY's master side.
 * The process leads its own session and group; when it ends, whatever is left of its session is
 * killed, so nothing outlives the job.
 */
// Why not the launcher: it hands back no PTY master, and a tty job cannot outlive the server that
// holds the master anyway (its end is a SIGHUP to the job).
export class PtyJobProcess {
  readonly pid: number
  readonly startTime: string | null
  /** Settles once the process has ended, its output is in the file and its session is empty. */
  readonly exited: Promise<ProcessEnd>
  readonly #pty: pty.IPty
  readonly #input: PtyInput
  readonly #out: WriteStream
  #gone = false
  #sentKill = false
  #terminating: Promise<void> | undefined

  /** Starts the job; throws when it cannot be spawned (nothing is left behind then). */
  constructor (options: PtySpawnOptions, onError: (err: Error) => void) {
    const { files } = options
    // Why an empty stderr file: readers of a job expect both files; a PTY has one output.
    closeSync(openSync(files.stderr, 'a'))
    this.#out = createWriteStream(files.stdout, { flags: 'a' })
    this.#out.on('error', onError)
    try {
      this.#pty = pty.spawn(options.shell, ['-c', options.command], {
        name: options.term,
        cols: options.cols,
        rows: options.rows,
        cwd: options.cwd,
        env: options.env,
        // Why: bytes, not strings: output is recorded exactly as the program wrote it.
        encoding: null,
      })
    } catch (err) {
      this.#out.destroy()
      throw err
    }
    this.pid = this.#pty.pid
    this.startTime = processStartTime(this.pid)
    this.#input = guardPty(this.#pty, (tail) => this.#out.write(tail), onError)
    this.#pty.onData((data) => {
      // Why pause: a program writing faster than the disk takes it waits, as it would on a real terminal.
      if (!this.#out.write(data as unknown as Buffer)) {
        this.#pty.pause()
        this.#out.once('drain', () => this.#pty.resume())
      }
    })
    this.exited = new Promise<{ exitCode: number, signal?: number }>((resolve) => this.#pty.onExit(resolve))
      .then(async ({ exitCode, signal }) => {
        this.#gone = true
        if (this.#terminating) await this.#terminating
        // Why: what the job left in its session (background processes) ends with it.
        if (sessionMembers(this.pid).length > 0) signalSession(this.pid, 'SIGKILL')
        await new Promise<void>((resolve) => this.#out.end(resolve))
        const name = signal ? signalName(signal) : undefined
        if (name !== undefined && isSignalName(name)) return this.#sentKill && name === 'SIGKILL' ? { type: 'killed' } : { type: 'signal', signal: name }
        return { type: 'status', status: exitCode }
      })
  }

  /** Types bytes into the terminal (what a keyboard would send). */
  write (data: string | Buffer): void {
    this.#input.write(data)
  }

  /** Input bytes typed but not yet taken by the terminal (its buffer is full while the program does not read). */
  pendingInputBytes (): number {
    return this.#input.pending
  }

  /** Changes the window size; the program gets SIGWINCH. */
  resize (cols: number, rows: number): void {
    if (!this.#gone) this.#pty.resize(cols, rows)
  }

  /** Sends one signal to the whole group. */
  signal (signal: NodeJS.Signals): boolean {
    if (signal === 'SIGKILL') this.#sentKill = true
    return signalGroup(this.pid, signal)
  }

  /** SIGTERM to the group, SIGKILL after `graceMs` if anything is left; resolves when the group is gone. */
  terminate (graceMs: number): Promise<void> {
    const allGone = (): boolean => this.#gone && !groupAlive(this.pid)
    this.#terminating ??= terminateGroup(this.pid, graceMs, allGone, () => { this.#sentKill = true })
    return this.#terminating
  }
}
