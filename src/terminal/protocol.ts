// The terminal WebSocket protocol (API.md §8): JSON frames in, raw text and NUL-prefixed JSON control frames out.

export const MAX_MESSAGE_BYTES = 64 * 1024
export const COLS = { min: 10, max: 500, default: 80 } as const
export const ROWS = { min: 2, max: 200, default: 24 } as const

/** A client frame the server acts on; anything else is ignored (and counted). */
export type ClientMessage =
  | { type: 'input', data: string }
  | { type: 'resize', cols: number, rows: number }
  | { type: 'ping' }

/** A control frame the server sends (after a NUL character). */
export type ControlMessage =
  | { type: 'session', id: string, cols: number, rows: number, readonly: boolean, replay: boolean }
  | { type: 'pong' }
  | { type: 'error', message: string }
  | { type: 'exit', exitCode: number | null, signal: string | null, reason: TerminalEndReason }

/** Why a terminal ended. */
export type TerminalEndReason = 'exited' | 'idle timeout' | 'lifetime reached' | 'orphaned' | 'closed' | 'server stopping'

/** Clamps a size into [min, max]; a value that is not a finite number becomes the default. */
export function clampSize (value: unknown, range: { min: number, max: number, default: number }): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN
  if (!Number.isFinite(n)) return range.default
  return Math.min(range.max, Math.max(range.min, Math.trunc(n)))
}

/** Decodes one client frame; null for binary, oversized, non-JSON or unknown frames. */
export function parseClientMessage (raw: Buffer | string, isBinary: boolean): ClientMessage | null {
  if (isBinary || raw.length > MAX_MESSAGE_BYTES) return null
  let message: unknown
  try { message = JSON.parse(raw.toString()) } catch { return null }
  if (typeof message !== 'object' || message === null) return null
  const { type, data, cols, rows } = message as Record<string, unknown>
  if (type === 'input') return typeof data === 'string' ? { type, data } : null
  if (type === 'resize') return { type, cols: clampSize(cols, COLS), rows: clampSize(rows, ROWS) }
  if (type === 'ping') return { type }
  return null
}

/** Encodes a control frame: NUL, then JSON, so it can never be mistaken for terminal output. */
export function controlFrame (message: ControlMessage): string {
  return '\u0000' + JSON.stringify(message)
}
