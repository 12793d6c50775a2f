import { accessSync, constants, statSync } from 'node:fs'
import { userInfo } from 'node:os'
import { basename, delimiter, isAbsolute, join, resolve } from 'node:path'
import { Errors } from '../errors.js'
import { clampSize, COLS, ROWS } from './protocol.js'

/** The query of a terminal socket (API.md §8), as strings. */
export interface TerminalQuery {
  workdir?: string
  command?: string
  shell?: string
  cols?: string
  rows?: string
  session?: string
  readonly?: string
}

/** A validated terminal request: reattach to `sessionId`, or start a new shell. */
export type TerminalRequest =
  | { readonly: boolean, sessionId: string }
  | { readonly: boolean, sessionId?: undefined, shell: string, args: string[], workdir: string, cols: number, rows: number, command?: string }

// Shells that take `-l` to run as a login shell (reading the user's profile, as a terminal would).
const LOGIN_SHELLS = new Set(['bash', 'zsh', 'sh', 'dash', 'ksh', 'mksh', 'fish', 'tcsh', 'csh'])
const NO_LOGIN = new Set(['nologin', 'false'])

function isExecutableFile (path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return statSync(path).isFile()
  } catch {
    return false
  }
}

/** The absolute path of a shell given as a path or a name on PATH, or undefined. */
export function findShell (shell: string, path = process.env.PATH ?? ''): string | undefined {
  if (shell.includes('/')) return isAbsolute(shell) && isExecutableFile(shell) ? shell : undefined
  for (const dir of path.split(delimiter)) {
    if (dir !== '' && isExecutableFile(join(dir, shell))) return join(dir, shell)
  }
  return undefined
}

/** The user's login shell (from the password database, then $SHELL), or /bin/sh. */
export function defaultShell (env: NodeJS.ProcessEnv = process.env): string {
  let fromPasswd: string | null = null
  try { fromPasswd = userInfo().shell } catch { /* no passwd entry (e.g. a container's arbitrary uid) */ }
  for (const candidate of [fromPasswd, env.SHELL]) {
    if (candidate && !NO_LOGIN.has(basename(candidate)) && isExecutableFile(candidate)) return candidate
  }
  return '/bin/sh'
}

/** Validates a terminal query before the socket is accepted; bad values are 400s. */
export function parseTerminalQuery (query: TerminalQuery, serverCwd: string, shellOfUser: string): TerminalRequest {
  const readonly = query.readonly === '1' || query.readonly === 'true'
  if (query.session !== undefined && query.session !== '') return { readonly, sessionId: query.session }

  const workdir = query.workdir ? resolve(serverCwd, query.workdir) : serverCwd
  let isDir = false
  try { isDir = statSync(workdir).isDirectory() } catch { /* reported below */ }
  if (!isDir) throw new Errors.WORKDIR_NOT_FOUND(query.workdir ?? workdir)

  const shell = query.shell ? findShell(query.shell) : shellOfUser
  if (shell === undefined) throw new Errors.INVALID_REQUEST(`shell not found or not executable: ${query.shell}`)
  return {
    readonly,
    shell,
    args: LOGIN_SHELLS.has(basename(shell)) ? ['-l'] : [],
    workdir,
    cols: clampSize(query.cols, COLS),
    rows: clampSize(query.rows, ROWS),
    ...(query.command ? { command: query.command } : {}),
  }
}
