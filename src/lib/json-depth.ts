// Why a pre-scan: JSON.parse of a 4 MiB `[[[[…` body holds the event loop for about a second; this
// scan stops at the first bracket past the limit, so a hostile body costs almost nothing.

/** The index of the quote that closes the string opened at `open`, or -1 when it is not closed. */
function closingQuote (text: string, open: number): number {
  for (let from = open + 1; ;) {
    const quote = text.indexOf('"', from)
    if (quote < 0) return -1
    let backslashes = 0
    while (text.charCodeAt(quote - 1 - backslashes) === 0x5c) backslashes++
    if (backslashes % 2 === 0) return quote
    from = quote + 1
  }
}

/** True when `text` nests arrays/objects deeper than `maxDepth` (brackets inside strings do not count). */
export function jsonNestedDeeperThan (text: string, maxDepth: number): boolean {
  let depth = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      // Why indexOf: strings are most of a large body, and a native search skips them ~10× faster.
      i = closingQuote(text, i)
      if (i < 0) return false // an unclosed string: JSON.parse refuses it
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return true
    } else if (c === 0x5d || c === 0x7d) {
      depth--
    }
  }
  return false
}
