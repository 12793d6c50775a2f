// The text the server writes into a session shell's control FIFO: one line per command, so the
// shell reads exactly one command at a time. Pure functions; see docs/sessions.md.
import type { ShellKind } from './shells.js'
import { shellQuote } from '../lib/shell-words.js'

/** Where one session command reads and writes; structurally a subset of the jobs' JobFiles. */
export interface CommandFiles {
  /** The job's directory; the command's script is written here. */
  dir: string
  stdout: string
  stderr: string
  /** Receives `<marker>:<status>` (or `<marker>:bootstrap:<status>`) when the command ends. */
  exit: string
}

/** The variable set for every command's processes, so a kill finds exactly them (in /proc/<pid>/environ). */
export const JOB_ID_VAR = 'AGENT_RUNTIME_SESSION_JOB'

// How each shell sources a file and prints without the user's functions getting in the way.
// Why `command .` in dash: a syntax error in a plain `.` file ends a non-interactive POSIX shell.
// zsh's `command` only runs external commands, so zsh uses `builtin`. The backslash stops alias
// expansion: a session may alias `builtin`, `command` or `export`.
// `history` adds the command's text to the shell's history list (dash keeps none).
const DIALECTS = {
  bash: { source: '\\builtin .', print: '\\builtin printf', history: '\\builtin history -s --' },
  zsh: { source: '\\builtin .', print: '\\builtin printf', history: '\\builtin print -s --' },
  sh: { source: '\\command .', print: '\\command printf', history: null },
} as const

/** Commands longer than this are not added to the shell's history (the line would get long). */
export const MAX_HISTORY_COMMAND_BYTES = 4096

/** Arguments that start each shell reading commands from stdin without any startup file. */
export const SHELL_ARGS: Readonly<Record<keyof typeof DIALECTS, readonly string[]>> = {
  bash: ['--noprofile', '--norc', '-s'],
  zsh: ['-f', '-s'],
  sh: ['-s'],
}

// Why: a shell that outlives the server must not keep descriptors the server inherited without
// close-on-exec (a pipe of whatever started the server would never see its end). dash can only
// name descriptors 0-9. No redirection on the loop: the shell would save stderr in a descriptor
// above 2, which the loop closes, and could not restore it.
// eslint-disable-next-line no-template-curly-in-string -- shell text
const CLOSE_INHERITED_FDS = 'for __f in /proc/$$/fd/*; do __n=${__f##*/}; [ "$__n" -gt 2 ] && exec {__n}>&-; done; unset __f __n'
const CLOSE_LOW_FDS = 'exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-'

/** The first line a new shell reads: closes inherited descriptors; bash also gets aliases in a non-interactive shell. */
export function initLine (kind: keyof typeof DIALECTS): string {
  if (kind === 'bash') return `${CLOSE_INHERITED_FDS}; shopt -s expand_aliases\n`
  if (kind === 'zsh') return `${CLOSE_INHERITED_FDS}\n`
  return `${CLOSE_LOW_FDS}\n`
}

/** Path of the file holding a command's own text, inside its job directory. */
export function commandScriptPath (files: CommandFiles): string {
  return `${files.dir}/session-command`
}

/**
 * The line (or lines: a quoted history entry may hold newlines) that runs one command in the shell's own context: its script is sourced inside a
 * brace group whose redirections send output to the job's files and stdin to the session's stdin
 * FIFO; then `$?` goes to the exit file behind the command's random marker. With a bootstrap
 * path, the bootstrap is sourced first (output discarded, stderr kept) and a failure skips the
 * command.
 */
export function commandLine (kind: ShellKind, jobId: string, marker: string, files: CommandFiles, stdinFifo: string, bootstrapPath: string | null, command = ''): string {
  const d = DIALECTS[kind as keyof typeof DIALECTS]
  if (d === undefined) throw new Error(`no session dialect for shell ${kind}`)
  const history = d.history !== null && command !== '' && Buffer.byteLength(command) <= MAX_HISTORY_COMMAND_BYTES
    ? `${d.history} ${shellQuote(command.replace(/\n+$/, ''))}; `
    : ''
  const run = `{ ${d.source} ${shellQuote(commandScriptPath(files))}; } >>${shellQuote(files.stdout)} 2>>${shellQuote(files.stderr)} <>${shellQuote(stdinFifo)}; ${d.print} '%s:%s\\n' ${marker} "$?" >${shellQuote(files.exit)}`
  const exportId = `${history}${JOB_ID_VAR}=${shellQuote(jobId)}; \\export ${JOB_ID_VAR}; `
  if (bootstrapPath === null) return `${exportId}${run}\n`
  const boot = `{ ${d.source} ${shellQuote(bootstrapPath)}; } >/dev/null 2>>${shellQuote(files.stderr)} </dev/null`
  return `${exportId}${boot}; case $? in 0) ${run};; *) ${d.print} '%s:bootstrap:%s\\n' ${marker} "$?" >${shellQuote(files.exit)};; esac\n`
}

/** How a command ended according to its exit file. */
export type ExitRecord = { status: number, bootstrapFailed: boolean }

/** Parses an exit file's text; null until it holds this command's complete marker line. */
export function parseExitRecord (text: string, marker: string): ExitRecord | null {
  const match = /^([0-9a-f]+):(bootstrap:)?(\d+)\n$/.exec(text)
  if (!match || match[1] !== marker) return null
  return { status: Number(match[3]), bootstrapFailed: match[2] !== undefined }
}
