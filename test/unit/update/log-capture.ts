import { pino, type Logger } from 'pino'

/** One JSON log line. */
export interface LogLine { msg: string, event?: string, [field: string]: any }

/** A real pino logger whose lines are kept in memory for the assertions. */
export function captureLog (): { log: Logger, lines: LogLine[] } {
  const lines: LogLine[] = []
  const log = pino({ level: 'info' }, { write: (text: string) => { lines.push(JSON.parse(text) as LogLine) } })
  return { log, lines }
}

/** A marker for a test's processes: `sleep <marker>` is a sleep found by its command line. */
export const sleepMarker = (): string => `1000.${Math.floor(Math.random() * 1e9)}`
