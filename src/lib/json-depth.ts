// Why a pre-scan: JSON.parse of a 4 MiB `[[[[…` body holds the event loop for over a second; this
// loop stops at the first bracket past the limit, so a hostile body costs almost nothing.

/** True when `text` nests arrays/objects deeper than `maxDepth` (brackets inside strings do not count). */
export function jsonNestedDeeperThan (text: string, maxDepth: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++ // backslash: skip the escaped character
      else if (c === 0x22) inString = false
    } else if (c === 0x22) {
      inString = true
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return true
    } else if (c === 0x5d || c === 0x7d) {
      depth--
    }
  }
  return false
}
