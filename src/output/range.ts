/** An inclusive byte range of a file. */
export interface ByteRange { start: number, end: number }

/**
 * Parses a single `Range: bytes=…` header against a file of `size` bytes: the range, null when the
 * header is absent or not a single byte range (serve everything), or 'unsatisfiable'.
 */
export function parseRange (header: string | undefined, size: number): ByteRange | null | 'unsatisfiable' {
  if (!header) return null
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (!match || (match[1] === '' && match[2] === '')) return null
  if (size === 0) return 'unsatisfiable'
  const [, first = '', last = ''] = match
  if (first === '') {
    const suffix = Number(last)
    if (suffix === 0) return 'unsatisfiable'
    return { start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(first)
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1)
  if (start >= size || end < start) return 'unsatisfiable'
  return { start, end }
}
