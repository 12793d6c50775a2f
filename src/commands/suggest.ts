// Did-you-mean for mistyped command names.

// Edits (insert, delete, substitute, swap two neighbours) from a to b.
function editDistance (a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => i === 0 ? j : j === 0 ? i : 0))
  const at = (i: number, j: number): number => (d[i] as number[])[j] as number
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1))
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1)
      ;(d[i] as number[])[j] = best
    }
  }
  return at(a.length, b.length)
}

/** The known names close to `typed` (one edit away, two for names over four letters, or starting with it), nearest first. */
export function similarNames (typed: string, known: readonly string[]): string[] {
  const word = typed.toLowerCase()
  return known
    .map((name) => ({ name, distance: editDistance(word, name) }))
    .filter(({ name, distance }) => distance <= (name.length > 4 ? 2 : 1) || (word.length >= 2 && name.startsWith(word)))
    .sort((x, y) => x.distance - y.distance)
    .map(({ name }) => name)
}

/** The one line for `agent-server <typed>` when no such command exists. */
export function unknownCommandMessage (typed: string, known: readonly string[]): string {
  const similar = similarNames(typed, known)
  const hint = similar.length > 0 ? ` (did you mean ${similar.map((name) => `'${name}'`).join(' or ')}?)` : ''
  return `error: unknown command '${typed}'${hint}; see agent-server --help`
}
