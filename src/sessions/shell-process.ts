import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, constants, openSync, readFileSync, readlinkSync, readSync, rmSync, writeSync } from 'node:fs'
import { constants as osConstants } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { childEnv } from '../lib/child-env.js'
import { isSameProcess, processStartTime, sessionMembers, signalSession } from '../exec/process-group.js'
import { initLine, JOB_ID_VAR, SHELL_ARGS } from './command-line.js'

// Starts the shell as the leader of a new session, reading commands from the control FIFO that
// it opens read-write (so it never sees end-of-file, whoever writes) — a later server reopens the
// same FIFO. Its own output goes to a log; commands redirect theirs to their job's files.
const LAUNCHER = 'ctl=$1 in=$2 log=$3; shift 3; mkfifo -m 600 "$ctl" "$in" || exit 126; exec "$@" <>"$ctl" >/dev/null 2>>"$log"'
const READY_TIMEOUT_MS = 5000
const READY_POLL_MS = 2
const ADOPTED_POLL_MS = 250

/** The files of one session's shell, in its directory under the state dir. */
export interface ShellPaths {
  dir: string
  /** The FIFO the shell reads commands from. */
  control: string
  /** The FIFO every command reads as its stdin. */
  stdin: string
  /** The shell's own stderr (its messages outside any command). */
  log: string
}

/** The paths for a session directory. */
export function shellPaths (dir: string): ShellPaths {
  return { dir, control: `${dir}/control.fifo`, stdin: `${dir}/stdin.fifo`, log: `${dir}/shell.log` }
}

/** How to start a session's shell. */
export interface ShellStartOptions {
  kind: 'bash' | 'zsh' | 'sh'
  shellPath: string
  paths: ShellPaths
  /** The seed: the first request's workdir and env overlay. */
  cwd: string
  env: Record<string, string>
}

/** One live session shell, started here or adopted from an earlier server. */
export class ShellProcess {
  readonly pid: number
  readonly startTime: string | null
  /** Settles when the shell has ended: its exit status when this server started it, else null. */
  readonly exited: Promise<number | null>
  readonly #paths: ShellPaths
  #controlFd: number | null
  // Why the server holds the stdin FIFO open read-write: a write between the moment a command is
  // handed over and the moment its shell opens the FIFO would fail (ENXIO, no reader) or be lost.
  #stdinFd: number | null = null
  #child: ChildProcess | undefined
  #poll: NodeJS.Timeout | undefined
  #gone = false
  #exitStatus: number | null = null

  private constructor (pid: number, startTime: string | null, paths: ShellPaths, controlFd: number, exited: Promise<number | null>) {
    this.pid = pid
    this.startTime = startTime
    this.#paths = paths
    this.#controlFd = controlFd
    this.exited = exited.then((status) => {
      this.#gone = true
      this.#exitStatus = status
      return status
    })
  }

  /** Starts a shell in a new session (its own process group, no terminal) and waits until it reads its FIFO. */
  static async start (options: ShellStartOptions): Promise<ShellProcess> {
    const { paths } = options
    rmSync(paths.control, { force: true })
    rmSync(paths.stdin, { force: true })
    const child = spawn('/bin/sh', ['-c', LAUNCHER, 'agent-session', paths.control, paths.stdin, paths.log, options.shellPath, ...SHELL_ARGS[options.kind]], {
      cwd: options.cwd,
      env: childEnv(options.env),
      detached: true,
      stdio: 'ignore',
    })
    let exitStatus: number | null | undefined
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code, signal) => {
        exitStatus = code ?? (signal ? 128 + osConstants.signals[signal] : null)
        resolve(exitStatus)
      })
      child.once('error', () => resolve(null))
    })
    const spawnError = await new Promise<Error | null>((resolve) => {
      child.once('spawn', () => resolve(null))
      child.once('error', resolve)
    })
    if (spawnError) throw new Error(`could not start the session's shell: ${spawnError.message}`, { cause: spawnError })
    const pid = child.pid as number
    const deadline = Date.now() + READY_TIMEOUT_MS
    let fd: number | null = null
    while (fd === null) {
      if (exitStatus !== undefined) throw new Error(`the session's shell (${options.shellPath}) ended at start with status ${exitStatus ?? 'unknown'}${readTail(paths.log)}`)
      if (Date.now() > deadline) {
        signalSession(pid, 'SIGKILL')
        throw new Error(`the session's shell (${options.shellPath}) did not start reading commands within ${READY_TIMEOUT_MS} ms`)
      }
      fd = openControl(paths.control)
      if (fd === null) await sleep(READY_POLL_MS)
    }
    const shell = new ShellProcess(pid, processStartTime(pid), paths, fd, exited)
    shell.#child = child
    child.unref()
    shell.write(initLine(options.kind))
    return shell
  }

  /** Takes over a shell an earlier server started, if it is the same live process and still reads its FIFO. */
  static adopt (pid: number, startTime: string | null, paths: ShellPaths): ShellProcess | null {
    if (!isSameProcess(pid, startTime)) return null
    const fd = openControl(paths.control)
    if (fd === null) return null
    let timer: NodeJS.Timeout | undefined
    const exited = new Promise<number | null>((resolve) => {
      timer = setInterval(() => {
        if (isSameProcess(pid, startTime)) return
        clearInterval(timer)
        resolve(null)
      }, ADOPTED_POLL_MS)
      timer.unref()
    })
    const shell = new ShellProcess(pid, startTime, paths, fd, exited)
    shell.#poll = timer
    return shell
  }

  /** The shell's exit status once it ended, when this server started it; else null. */
  get exitStatus (): number | null { return this.#exitStatus }

  /** True while the shell process lives. */
  get alive (): boolean {
    if (this.#gone) return false
    if (this.#child) return this.#child.exitCode === null && this.#child.signalCode === null
    return isSameProcess(this.pid, this.startTime)
  }

  /** Writes text to the shell's control FIFO (one short line: atomic); throws when the shell no longer reads it. */
  write (text: string): void {
    if (this.#controlFd === null) throw new Error('the session shell is detached')
    writeSync(this.#controlFd, text)
  }

  /** Writes to the commands' stdin FIFO without blocking; the bytes written (fewer when its buffer is full). */
  writeStdin (data: string | Buffer): number {
    try {
      return writeSync(this.#stdin(), typeof data === 'string' ? Buffer.from(data) : data)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return 0
      throw err
    }
  }

  /** Discards stdin bytes no command read, so the next command never gets an earlier command's input. */
  drainStdin (): void {
    const buffer = Buffer.alloc(65536)
    try {
      while (readSync(this.#stdin(), buffer) > 0) { /* discard */ }
    } catch { /* EAGAIN: empty */ }
  }

  #stdin (): number {
    if (this.#controlFd === null) throw new Error('the session shell is detached')
    this.#stdinFd ??= openSync(this.#paths.stdin, constants.O_RDWR | constants.O_NONBLOCK)
    return this.#stdinFd
  }

  /** The shell's current working directory, or null when it cannot be read. */
  cwd (): string | null {
    try { return readlinkSync(`/proc/${this.pid}/cwd`) } catch { return null }
  }

  /** Pids of the processes a command started (they carry its job id in their environment). */
  commandProcesses (jobId: string): number[] {
    const needle = `${JOB_ID_VAR}=${jobId}`
    return sessionMembers(this.pid).filter((pid) => {
      if (pid === this.pid) return false
      try {
        return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(needle)
      } catch {
        return false
      }
    })
  }

  /** Kills every process of the shell's session, the shell and `nohup`ed processes included. */
  killSession (): void {
    signalSession(this.pid, 'SIGKILL')
  }

  /** Stops watching and closes the FIFO; the shell keeps running for a later server. */
  detach (): void {
    clearInterval(this.#poll)
    if (this.#controlFd !== null) closeSync(this.#controlFd)
    if (this.#stdinFd !== null) closeSync(this.#stdinFd)
    this.#controlFd = null
    this.#stdinFd = null
  }
}

// Why: a FIFO opened for writing with O_NONBLOCK fails with ENXIO until a reader has it open,
// which tells a starting or adopting server whether the shell reads it yet, without blocking.
function openControl (path: string): number | null {
  try {
    return openSync(path, constants.O_WRONLY | constants.O_NONBLOCK)
  } catch {
    return null
  }
}

function readTail (path: string): string {
  try {
    const text = readFileSync(path, 'utf8').trim()
    return text === '' ? '' : `: ${text.slice(-500)}`
  } catch {
    return ''
  }
}
