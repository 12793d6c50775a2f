import type { BigIntStats } from 'node:fs'

/** A strong ETag from size, mtime (ns) and inode: any write or replace changes it. */
export function etagOf (stats: BigIntStats): string {
  return `"${stats.size.toString(16)}-${stats.mtimeNs.toString(16)}-${stats.ino.toString(16)}"`
}

/** Whether an `If-Match` / `If-None-Match` header value names `etag` (or is `*`); weak tags compare by value. */
export function etagMatches (header: string, etag: string): boolean {
  return header.split(',').map((tag) => tag.trim().replace(/^W\//, '')).some((tag) => tag === '*' || tag === etag)
}
