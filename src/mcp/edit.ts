/** Where `needle` occurs in `text`: the first index and how many times (overlaps not counted). */
export function countOccurrences (text: string, needle: string): { first: number, count: number } {
  let count = 0
  let first = -1
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) {
    if (first === -1) first = at
    count++
  }
  return { first, count }
}

const CONTEXT_LINES = 2

/** A small unified-style diff of one replacement at `at`: a few lines of context, `-` old lines, `+` new lines. */
export function replacementDiff (before: string, at: number, oldText: string, newText: string): string {
  const lineNo = before.slice(0, at).split('\n').length
  const lines = before.split('\n')
  const lineStart = before.lastIndexOf('\n', at - 1) + 1
  const oldLines = before.slice(lineStart, endOfLine(before, at + oldText.length)).split('\n')
  const prefix = before.slice(lineStart, at)
  const suffix = before.slice(at + oldText.length, endOfLine(before, at + oldText.length))
  const newLines = (prefix + newText + suffix).split('\n')
  const contextBefore = lines.slice(Math.max(0, lineNo - 1 - CONTEXT_LINES), lineNo - 1)
  const contextAfter = lines.slice(lineNo - 1 + oldLines.length, lineNo - 1 + oldLines.length + CONTEXT_LINES)
  return [
    `@@ -${lineNo},${oldLines.length} +${lineNo},${newLines.length} @@`,
    ...contextBefore.map((l) => ` ${l}`),
    ...oldLines.map((l) => `-${l}`),
    ...newLines.map((l) => `+${l}`),
    ...contextAfter.map((l) => ` ${l}`),
  ].join('\n')
}

function endOfLine (text: string, from: number): number {
  const end = text.indexOf('\n', from)
  return end === -1 ? text.length : end
}
