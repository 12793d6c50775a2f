import { pino, type Logger } from 'pino'
import type { LogLevel } from './config.js'

export type { Logger }

// Paths that may hold secrets; pino replaces their values before anything is written.
const REDACT_PATHS = [
  'key', 'apiKey', 'env', 'headers.authorization', 'headers["x-api-key"]',
  'req.headers.authorization', 'req.headers["x-api-key"]',
]

/** The root logger: JSON lines, or pretty lines when stdout is a terminal (coloured unless NO_COLOR is set). */
export function createLogger (level: LogLevel, pretty = process.stdout.isTTY === true): Logger {
  return pino({
    level,
    base: { pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', colorize: process.env.NO_COLOR === undefined } } } : {}),
  })
}
