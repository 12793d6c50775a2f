import { statSync } from 'node:fs'
import type { SessionState } from './state-file.js'

/**
 * When the session's latest command last wrote output (seconds), or null.
 * Why size and not mtime >= start: file times are kernel ticks, coarser than Date.now(), and
 * the files are the latest command's own (the shell creates them when it runs it).
 */
export function lastOutputAt (state: SessionState): number | null {
  const files = state.lastFiles
  if (!files || state.lastStartedAt === null) return null
  let latest: number | null = null
  for (const path of [files.stdout, files.stderr]) {
    try {
      const stat = statSync(path)
      if (stat.size > 0) latest = Math.max(latest ?? 0, stat.mtimeMs / 1000)
    } catch { /* not written */ }
  }
  return latest
}
