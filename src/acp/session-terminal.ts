import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import type { TerminalExitStatus, TerminalOutputResponse } from '@agentclientprotocol/sdk'
import { completeLength, decodeUtf8, leadingContinuationBytes } from '../lib/utf8.js'
import type { SessionTerminalRun } from './types.js'
import { shellQuote } from '../lib/shell-words.js'

/**
 * The line an agent's terminal command becomes in a persistent POSIX shell session: `cd` to the
 * checked cwd (it persists, as when a person types it), then the command line as given, or the
 * program and its arguments quoted word by word.
 */
export function sessionCommandLine (cwd: string, command: string, args: readonly string[]): string {
  const run = args.length === 0 ? command : [command, ...args].map(shellQuote).join(' ')
  return `cd -- ${shellQuote(cwd)} && ${run}`
}

// The last `limit` bytes of a file, and whether anything before them was left out.
function readTail (path: string, limit: number): { bytes: Buffer, truncated: boolean } {
  let fd: number
  try { fd = openSync(path, 'r') } catch { return { bytes: Buffer.alloc(0), truncated: false } }
  try {
    const size = fstatSync(fd).size
    const length = Math.min(size, Math.max(0, limit))
    const bytes = Buffer.alloc(length)
    const read = readSync(fd, bytes, 0, length, size - length)
    return { bytes: bytes.subarray(0, read), truncated: size > length }
  } finally {
    closeSync(fd)
  }
}

// A terminal whose command runs in a persistent shell session: output is read from its file.
export class SessionTerminal {
  readonly id: string
  readonly ended: Promise<TerminalExitStatus>
  exitStatus: TerminalExitStatus | null = null
  readonly #run: SessionTerminalRun
  readonly #limit: number

  constructor (id: string, run: SessionTerminalRun, limit: number) {
    this.id = id
    this.#run = run
    this.#limit = limit
    this.ended = run.ended.then((status) => {
      this.exitStatus = status
      return status
    })
  }

  /** The output so far: the last `limit` bytes, never starting or (while running) ending inside a character. */
  output (): TerminalOutputResponse {
    let { bytes, truncated } = readTail(this.#run.outputPath, this.#limit)
    if (truncated) bytes = bytes.subarray(leadingContinuationBytes(bytes))
    if (this.exitStatus === null) bytes = bytes.subarray(0, completeLength(bytes))
    return { output: decodeUtf8(bytes), truncated, ...(this.exitStatus ? { exitStatus: this.exitStatus } : {}) }
  }

  /** Interrupts the command, keeping the session; resolves when it has ended. */
  async kill (): Promise<void> {
    if (this.exitStatus !== null) return
    await this.#run.kill()
    await this.ended
  }
}
