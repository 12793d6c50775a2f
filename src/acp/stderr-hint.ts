// How much of the agent's stderr an error without details quotes.
const HINT_LINES = 10
const HINT_CHARS = 1500

/** The last lines of the agent's stderr as a suffix for an error message (`''` when it wrote nothing). */
export function stderrHint (stderrTail: string): string {
  const lines = stderrTail.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '')
  const text = lines.slice(-HINT_LINES).join('\n').slice(-HINT_CHARS)
  return text === '' ? '' : `; the agent's stderr ends with: ${text}`
}

/** True when an ACP error carries no explanation of its own (no `data.details`, no `data` text). */
export function lacksDetails (data: unknown): boolean {
  if (typeof data === 'string') return data.trim() === ''
  const details = (data as { details?: unknown } | null | undefined)?.details
  return typeof details !== 'string' || details.trim() === ''
}
