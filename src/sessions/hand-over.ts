// Handing one command to a session's shell: its script (and the bootstrap) on disk, then its line in the FIFO.
import { mkdirSync, statSync, writeFileSync } from 'node:fs'
import { commandLine, commandScriptPath, type CommandFiles } from './command-line.js'
import type { ShellProcess } from './shell-process.js'
import type { ShellKind } from './shells.js'

/** What the shell is given for one command. */
export interface HandOver {
  shellKind: ShellKind
  jobId: string
  marker: string
  files: CommandFiles
  command: string
  /** The FIFO the command reads as its stdin. */
  stdinPath: string
  /** Where the bootstrap is written when it is due; null when it is not. */
  bootstrapPath: string | null
  bootstrap: string | null
}

/**
 * Writes the command's script (and the due bootstrap), empties the stdin FIFO, calls `beforeWrite`
 * and writes the command's line to the shell; throws when any step fails.
 */
export function handOverCommand (shell: ShellProcess, handOver: HandOver, beforeWrite: () => void): void {
  const { files } = handOver
  mkdirSync(files.dir, { recursive: true })
  writeFileSync(commandScriptPath(files), handOver.command)
  if (handOver.bootstrapPath !== null) writeFileSync(handOver.bootstrapPath, handOver.bootstrap as string)
  shell.drainStdin()
  beforeWrite()
  shell.write(commandLine(handOver.shellKind, handOver.jobId, handOver.marker, files, handOver.stdinPath, handOver.bootstrapPath, handOver.command))
}

/** When the command's script was written (it is, just before the hand-over), or null if it never was. */
export function handedOverAtMs (files: CommandFiles): number | null {
  try {
    return statSync(commandScriptPath(files)).mtimeMs
  } catch {
    return null
  }
}
