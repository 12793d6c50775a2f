import { randomBytes } from 'node:crypto'
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import type { Logger } from 'pino'
import type { CommandFiles } from './command-line.js'
import type { ShellKind } from './shells.js'
import type { SessionRunRequest } from './types.js'

/** What a session keeps on disk so that a later server can re-adopt it (session.json). */
export interface SessionState {
  sessionKey: string
  shell: ShellKind
  shellPath: string
  seed: { workdir: string, env: Record<string, string> }
  bootstrap: string | null
  bootstrapApplied: boolean
  createdAt: number
  lastUsedAt: number
  /** The current shell; null while none runs. */
  pid: number | null
  startTime: string | null
  /** Random; each command's marker is derived from it and the job id. */
  secret: string
  /** Session ids of earlier shells of this session, whose leftover processes die with the session. */
  formerSids: number[]
  /** The files of the latest command, for lastOutputAt (saved only with other changes). */
  lastFiles: CommandFiles | null
  lastStartedAt: number | null
}

/** Writes the state atomically (temp file + rename), so a crash never leaves half a file. */
export function writeSessionState (path: string, state: SessionState): void {
  writeFileSync(`${path}.tmp`, JSON.stringify(state))
  renameSync(`${path}.tmp`, path)
}

/** The state in `path`, or null when it is missing or unreadable. */
export function readSessionState (path: string): SessionState | null {
  try {
    const state = JSON.parse(readFileSync(path, 'utf8')) as SessionState
    return typeof state.sessionKey === 'string' && typeof state.shell === 'string' ? state : null
  } catch {
    return null
  }
}

/** The state of a new session, seeded from its first request; no shell yet. */
export function newSessionState (request: SessionRunRequest): SessionState {
  const now = Date.now() / 1000
  return {
    sessionKey: request.sessionKey,
    shell: request.shell,
    shellPath: request.shellPath,
    seed: { workdir: request.workdir, env: { ...request.env } },
    bootstrap: null,
    bootstrapApplied: false,
    createdAt: now,
    lastUsedAt: now,
    pid: null,
    startTime: null,
    formerSids: [],
    secret: randomBytes(16).toString('hex'),
    lastFiles: null,
    lastStartedAt: null,
  }
}

/** A session's state and its file, written only when the state changed in more than lastUsedAt and the latest command's files. */
export class StateFile {
  readonly state: SessionState
  readonly #path: string
  readonly #log: Logger
  #dirty = true
  #closed = false

  constructor (path: string, state: SessionState, log: Logger) {
    this.#path = path
    this.state = state
    this.#log = log
  }

  /** The state changed in more than lastUsedAt and the latest command's files: the next save writes it. */
  changed (): void {
    this.#dirty = true
  }

  /** The session was used now. */
  touch (): void {
    this.state.lastUsedAt = Date.now() / 1000
  }

  /** Writes the state if it changed, until close(). */
  save (): void {
    // Why only on changes: the atomic rename cost ~3 ms per command on the test machine's /tmp.
    if (this.#closed || !this.#dirty) return
    this.#dirty = false
    try {
      writeSessionState(this.#path, this.state)
    } catch (err) {
      this.#log.error({ err }, 'could not save session state')
    }
  }

  /** Writes no more (the session ended, or is left to a later server). */
  close (): void {
    this.#closed = true
  }
}
