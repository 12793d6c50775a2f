import { isUtf8 } from 'node:buffer'
import type { RuntimeClient } from '../client/index.js'
import type { CommandIo } from './io.js'

// The window size a tty job gets when the local output is not a terminal, and the server's bounds.
const DEFAULT_SIZE = { cols: 80, rows: 24 }
const COLS_RANGE = [10, 500] as const
const ROWS_RANGE = [2, 200] as const

/** The streams `exec -t` needs: a stdin that can go raw and an stdout that knows its size. */
export type TtyExecIo = CommandIo & {
  stdin: CommandIo['stdin'] & { setRawMode?: (raw: boolean) => void }
  stdout: CommandIo['stdout'] & { columns?: number, rows?: number }
}

// Modes a program on the job's terminal may leave set when it is killed; turning them off is
// harmless when they are off. The alternate screen is handled apart (see `TerminalModes`).
const RESET_MODES = [
  '\u001b[?1000l', '\u001b[?1002l', '\u001b[?1003l', '\u001b[?1005l', '\u001b[?1006l', '\u001b[?1015l', // mouse
  '\u001b[?2004l', // bracketed paste
  '\u001b[?1l', '\u001b>', // cursor keys and keypad back to normal
  '\u001b[0m', '\u001b[?25h', // attributes, cursor shown
].join('')
const ALT_SCREEN_ON = ['\u001b[?1049h', '\u001b[?1047h', '\u001b[?47h']
const ALT_SCREEN_OFF = ['\u001b[?1049l', '\u001b[?1047l', '\u001b[?47l']

const clamp = (value: number | undefined, [min, max]: readonly [number, number], fallback: number): number =>
  value === undefined || !Number.isInteger(value) || value <= 0 ? fallback : Math.min(max, Math.max(min, value))

/** The window size to give a tty job: the local terminal's (within the server's bounds), else 80×24. */
export function localWindowSize (io: TtyExecIo): { cols: number, rows: number } {
  if (io.stdout.isTTY !== true) return { ...DEFAULT_SIZE }
  return { cols: clamp(io.stdout.columns, COLS_RANGE, DEFAULT_SIZE.cols), rows: clamp(io.stdout.rows, ROWS_RANGE, DEFAULT_SIZE.rows) }
}

/**
 * Follows what a program did to the screen through the job's output, so that the local terminal
 * can be put back afterwards: leaves the alternate screen only when the program entered it (a
 * blind "leave" moves the cursor on some terminals), and resets the harmless modes.
 */
export class TerminalModes {
  #altScreen = false

  /** Looks at one chunk of the job's output. */
  see (chunk: Uint8Array): void {
    const text = Buffer.from(chunk).toString('latin1')
    const on = lastIndex(text, ALT_SCREEN_ON)
    const off = lastIndex(text, ALT_SCREEN_OFF)
    if (on > off) this.#altScreen = true
    else if (off > on) this.#altScreen = false
  }

  /** The bytes that put the local terminal back in its normal modes. */
  restore (): string {
    return (this.#altScreen ? '\u001b[?1049l' : '') + RESET_MODES
  }
}

function lastIndex (text: string, sequences: readonly string[]): number {
  return Math.max(...sequences.map((sequence) => text.lastIndexOf(sequence)))
}

/**
 * Puts the local terminal in raw mode (keys go to the job as typed: Ctrl-C reaches the job's
 * program, not this process) and returns the idempotent way back, also run if the process exits
 * on any other path.
 */
export function enterRawMode (io: TtyExecIo): () => void {
  if (io.stdin.isTTY !== true || typeof io.stdin.setRawMode !== 'function') return () => {}
  io.stdin.setRawMode(true)
  let restored = false
  const restore = (): void => {
    if (restored) return
    restored = true
    process.removeListener('exit', restore)
    try { io.stdin.setRawMode?.(false) } catch { /* the terminal is gone */ }
  }
  process.on('exit', restore)
  return restore
}

/** Sends the local window size to the job whenever it changes (SIGWINCH); returns how to stop. */
export function forwardWindowSize (client: RuntimeClient, jobId: string, io: TtyExecIo): () => void {
  if (io.stdout.isTTY !== true) return () => {}
  const onResize = (): void => {
    const { cols, rows } = localWindowSize(io)
    client.resize(jobId, cols, rows).catch(() => { /* the job ended meanwhile: its output stream says so */ })
  }
  process.on('SIGWINCH', onResize)
  return () => process.removeListener('SIGWINCH', onResize)
}

/**
 * Sends local stdin to the job chunk by chunk, in order, and closes the job's stdin at EOF (a
 * tty job gets Ctrl-D). Text goes as `data`, anything that is not UTF-8 as bytes (`dataBase64`).
 * Failures (the job ended, the server went away) stop the forwarding quietly: the output stream
 * reports the outcome.
 */
export async function forwardInput (client: RuntimeClient, jobId: string, io: CommandIo): Promise<void> {
  try {
    for await (const chunk of io.stdin) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk as Buffer
      // Why text when it is text: servers before dataBase64 (and devpilot) take only `data`.
      if (bytes.length > 0) await client.writeStdin(jobId, isUtf8(bytes) ? bytes.toString('utf8') : bytes)
    }
    await client.writeStdin(jobId, '', true)
  } catch {
    // the job no longer takes input
  }
}
