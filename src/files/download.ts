import type { BigIntStats } from 'node:fs'
import { parseRange } from '../output/range.js'
import { etagMatches, etagOf } from './etag.js'

/** What to answer to a GET of a file: the status, the headers, and the inclusive byte span to send (none for 304/416). */
export interface DownloadPlan {
  status: 200 | 206 | 304 | 416
  headers: Record<string, string | number>
  span: { start: number, end: number } | null
}

/** Decides a file download from its stats and the request's `Range` and `If-None-Match` (single ranges only). */
export function planDownload (stats: BigIntStats, range: string | undefined, ifNoneMatch: string | undefined): DownloadPlan {
  const size = Number(stats.size)
  const etag = etagOf(stats)
  const headers: Record<string, string | number> = {
    etag,
    'last-modified': new Date(Number(stats.mtimeMs)).toUTCString(),
    'accept-ranges': 'bytes',
  }
  if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, etag)) return { status: 304, headers, span: null }
  const parsed = parseRange(range, size)
  if (parsed === 'unsatisfiable') return { status: 416, headers: { ...headers, 'content-range': `bytes */${size}` }, span: null }
  if (parsed !== null) {
    return {
      status: 206,
      headers: { ...headers, 'content-range': `bytes ${parsed.start}-${parsed.end}/${size}`, 'content-length': parsed.end - parsed.start + 1 },
      span: parsed,
    }
  }
  return { status: 200, headers: { ...headers, 'content-length': size }, span: size === 0 ? null : { start: 0, end: size - 1 } }
}
