import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readExitFile, type JobFiles } from './job-files.js'
import { groupAlive, isSameProcess, processStartTime, signalGroup, terminateGroup } from './process-group.js'
import type { ProcessEnd } from './process-end.js'
import type { JobStdin } from './job-stdin.js'

// The outer shell that runs the command and records its status in the exit file, so that a
// later server can learn how a job ended. Its trap lets it outlive a SIGTERM to the group long
// enough to write the status; the command itself gets default signal handling. The wrapper opens
// the output files itself (stdout as fd 1, the command's stderr as fd 3): creating them cost the
// server's event loop ~15 % of its time under load. Its own stderr is /dev/null, so its messages
// ("Terminated") stay out of the log. Why the subshell: dash keeps a command's redirections in
// force while it waits for it, and would print its message into the job's stderr. Why `command
// exec … || exit`: a failed redirection of a plain `exec` ends the shell with status 2, which
// would look like the command's own exit status.
const WRAPPER_SCRIPT = 'trap : INT TERM; command exec >>"$4" 3>>"$5" || exit 125; (exec "$1" -c "$2" 2>&3 3>&-); s=$?; echo "$s" > "$3"; exit "$s"'
const ADOPTED_POLL_MS = 100
// The recorder's status when it could not open the output files (the command never ran).
const OUTPUT_FILES_FAILED_STATUS = 125

/** How a job ended, from its exit file or else from how its recorder (wrapper shell or launcher's recorder) ended. */
export function recorderEnd (files: JobFiles, code: number | null, signal: NodeJS.Signals | null): ProcessEnd {
  const recorded = readExitFile(files.exit)
  if (recorded !== null) return { type: 'status', status: recorded }
  if (signal) return { type: 'signal', signal }
  if (code === OUTPUT_FILES_FAILED_STATUS) return { type: 'output-files-failed', path: files.stdout }
  return { type: 'status', status: code ?? 1 }
}

/** How to start a job's process. */
export interface SpawnOptions {
  files: JobFiles
  command: string
  shell: string
  cwd: string
  env: NodeJS.ProcessEnv
  stdin: 'pipe' | 'ignore'
}

// One job's process group, started here or adopted from an earlier server; owns its kill sequence.
export class JobProcess {
  readonly pid: number
  readonly startTime: string | null
  readonly stdin: JobStdin | null
  /** Settles once the job's shell has ended and, after a kill, its whole group is gone. */
  readonly exited: Promise<ProcessEnd>
  #wrapperGone = false
  #terminating: Promise<void> | undefined
  #sentKill = false
  #child: ChildProcess | undefined
  #poll: NodeJS.Timeout | undefined
  #onDetach: (() => void) | undefined

  // `wrapperExit` resolves with null when the wrapper left no status (it was SIGKILLed).
  private constructor (pid: number, startTime: string | null, stdin: JobStdin | null, wrapperExit: Promise<ProcessEnd | null>) {
    this.pid = pid
    this.startTime = startTime
    this.stdin = stdin
    this.exited = wrapperExit.then(async (info) => {
      this.#wrapperGone = true
      if (this.#terminating) await this.#terminating
      if (info) return info
      return { type: this.#sentKill ? 'killed' : 'vanished' }
    })
  }

  /** Starts `shell -c command` through Node's spawn and a wrapper shell (the path without the launcher) in a new process group with output going straight into the job's files. */
  static async start (options: SpawnOptions): Promise<JobProcess> {
    const { files } = options
    const child = spawn('/bin/sh', ['-c', WRAPPER_SCRIPT, 'agent-job', options.shell, options.command, files.exit, files.stdout, files.stderr], {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: [options.stdin, 'ignore', 'ignore'],
    })
    const wrapperExit = new Promise<ProcessEnd | null>((resolve) => {
      child.once('exit', (code, signal) => resolve(recorderEnd(files, code, signal)))
    })
    child.stdin?.on('error', () => { /* Why: EPIPE when the job stops reading; the write call reports it. */ })
    await Promise.race([once(child, 'spawn'), once(child, 'error').then(([e]) => { throw e })])
    const pid = child.pid as number
    const process = new JobProcess(pid, processStartTime(pid), child.stdin, wrapperExit)
    process.#child = child
    return process
  }

  /**
   * A job that another process (the launcher) started: `recorderExit` settles when its recorder
   * ends (null: it left no status); `onDetach` stops following it.
   */
  static launched (pid: number, startTime: string | null, stdin: JobStdin | null, recorderExit: Promise<ProcessEnd | null>, onDetach: () => void): JobProcess {
    const process = new JobProcess(pid, startTime, stdin, recorderExit)
    process.#onDetach = onDetach
    return process
  }

  /** Follows a job that an earlier server started: waits for its shell to end, then reads the exit file. */
  static adopt (pid: number, startTime: string | null, files: JobFiles): JobProcess {
    let timer: NodeJS.Timeout | undefined
    const wrapperExit = new Promise<ProcessEnd | null>((resolve) => {
      timer = setInterval(() => {
        if (isSameProcess(pid, startTime)) return
        clearInterval(timer)
        const recorded = readExitFile(files.exit)
        resolve(recorded !== null ? { type: 'status', status: recorded } : null)
      }, ADOPTED_POLL_MS)
    })
    const process = new JobProcess(pid, startTime, null, wrapperExit)
    process.#poll = timer
    return process
  }

  /** Stops watching without touching the process, which keeps running for the next server to adopt. */
  detach (): void {
    clearInterval(this.#poll)
    this.#child?.unref()
    this.#child?.stdin?.destroy()
    this.#onDetach?.()
  }

  /** Sends one signal to the whole group. */
  signal (signal: NodeJS.Signals): boolean {
    if (signal === 'SIGKILL') this.#sentKill = true
    return signalGroup(this.pid, signal)
  }

  /** SIGTERM to the group, SIGKILL after `graceMs` if anything is left; resolves when the group is gone. */
  terminate (graceMs: number): Promise<void> {
    const allGone = (): boolean => this.#wrapperGone && !groupAlive(this.pid)
    this.#terminating ??= terminateGroup(this.pid, graceMs, allGone, () => { this.#sentKill = true })
    return this.#terminating
  }
}
