// Drives a SessionPool in tests: submit commands, await their outcome and read their files.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { SessionPool, type SessionPoolOptions } from '../../src/sessions/pool.js'
import { detectShells, type ShellKind } from '../../src/sessions/shells.js'
import type { CommandFiles } from '../../src/sessions/command-line.js'
import type { SessionOutcome, SessionRunRequest } from '../../src/sessions/types.js'

export const SHELLS = detectShells()
/** The POSIX shells installed here (bash, zsh, sh); pwsh sessions are not built yet. */
export const POSIX_SHELLS = (['bash', 'zsh', 'sh'] as const).filter((k) => SHELLS.installed[k] !== undefined)

/** What a finished command left. */
export interface CommandResult { jobId: string, outcome: SessionOutcome, stdout: string, stderr: string, stdoutBytes: Buffer }

/** A submitted command: its place in the queue and its end. */
export interface Submitted { jobId: string, position: number, files: CommandFiles, startedPid: Promise<number>, done: Promise<CommandResult> }

let counter = 0

/** The job files of `jobId` under `stateDir` (as the jobs' jobFiles names them). */
export function filesOf (stateDir: string, jobId: string): CommandFiles {
  const dir = join(stateDir, 'jobs', jobId)
  return { dir, stdout: `${dir}/stdout`, stderr: `${dir}/stderr`, exit: `${dir}/exit` }
}

/** Reads what a command left in its files. */
export function resultOf (jobId: string, files: CommandFiles, outcome: SessionOutcome): CommandResult {
  const read = (path: string): Buffer => { try { return readFileSync(path) } catch { return Buffer.alloc(0) } }
  const stdoutBytes = read(files.stdout)
  return { jobId, outcome, stdout: stdoutBytes.toString('utf8'), stderr: read(files.stderr).toString('utf8'), stdoutBytes }
}

// A pool in a fresh state dir, and everything needed to close it after the test.
export class TestPool {
  readonly stateDir: string
  pool: SessionPool
  constructor (options: Partial<SessionPoolOptions> = {}, stateDir?: string) {
    this.stateDir = stateDir ?? mkdtempSync(join(tmpdir(), 'sessions-'))
    this.pool = new SessionPool({ stateDir: this.stateDir, maxSessions: 32, idleTimeoutMs: 0, killGraceMs: 300, log: pino({ level: 'silent' }), ...options })
  }

  /** Queues `command` in session `key` (shell bash unless given). */
  submit (key: string, command: string, extra: Partial<SessionRunRequest> = {}): Submitted {
    const jobId = extra.jobId ?? `job${process.pid}x${counter++}`
    const shell: ShellKind = extra.shell ?? 'bash'
    const files = filesOf(this.stateDir, jobId)
    let onStarted: (pid: number) => void = () => undefined
    const startedPid = new Promise<number>((resolve) => { onStarted = resolve })
    let onDone: (result: CommandResult) => void = () => undefined
    const done = new Promise<CommandResult>((resolve) => { onDone = resolve })
    const { position } = this.pool.run({
      jobId,
      sessionKey: key,
      shell,
      shellPath: SHELLS.installed[shell] ?? 'missing',
      command,
      bootstrapCommand: '',
      bootstrapCurrentCommand: false,
      workdir: this.stateDir,
      env: {},
      files,
      timeoutMs: 0,
      ...extra,
    }, {
      started: ({ pid }) => { onStarted(pid) },
      finished: (outcome) => { onDone(resultOf(jobId, files, outcome)) },
    })
    return { jobId, position, files, startedPid, done }
  }

  /** Runs `command` in session `key` and waits for its end. */
  async run (key: string, command: string, extra: Partial<SessionRunRequest> = {}): Promise<CommandResult> {
    return this.submit(key, command, extra).done
  }

  /** Ends every session and removes the state dir. */
  async close (): Promise<void> {
    await this.pool.close()
    rmSync(this.stateDir, { recursive: true, force: true })
  }
}
