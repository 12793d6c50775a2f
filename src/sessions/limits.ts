// devpilot's session limits from its environment variables (§5.6), for the server's config.

/** devpilot's default maximum number of sessions. */
export const DEFAULT_MAX_SESSIONS = 32

/**
 * `DEVPILOT_PERSISTENT_SHELL_MAX_SESSIONS` as devpilot read it: an integer, values below 1
 * raised to 1, anything unparsable ignored (undefined: use the default or the CLI flag).
 */
export function maxSessionsFromEnv (value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*[+-]?\d+\s*$/.test(value)) return undefined
  return Math.max(1, Number(value))
}

/**
 * `DEVPILOT_PERSISTENT_SHELL_IDLE_TIMEOUT_SECONDS` as devpilot read it: a float; 0 or negative
 * disables the idle timeout (0 returned); anything unparsable is ignored (undefined).
 */
export function idleTimeoutSecFromEnv (value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined
  const seconds = Number(value)
  if (Number.isNaN(seconds)) return undefined
  return seconds > 0 ? seconds : 0
}
