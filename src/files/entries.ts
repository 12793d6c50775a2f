import type { Dir, Stats } from 'node:fs'
import { lstat, opendir, readlink } from 'node:fs/promises'
import { basename, join } from 'node:path'
import type { FileEntry } from '../contract/files.js'

/** What a path is, as the files API reports it. */
export type EntryType = FileEntry['type']

/** What `stats` says the entry is. */
export function typeOf (stats: Stats): EntryType {
  if (stats.isFile()) return 'file'
  if (stats.isDirectory()) return 'directory'
  if (stats.isSymbolicLink()) return 'symlink'
  return 'other'
}

/** Permission bits (with setuid/setgid/sticky) as a 4-digit octal string. */
export const modeString = (mode: number): string => (mode & 0o7777).toString(8).padStart(4, '0')

/** The entry for `path` (not following a final symlink), named `name`. */
export async function describeEntry (path: string, name = basename(path)): Promise<FileEntry> {
  const stats = await lstat(path)
  const entry: FileEntry = { name, type: typeOf(stats), size: stats.size, mode: modeString(stats.mode), mtime: stats.mtime.toISOString() }
  if (entry.type === 'symlink') entry.target = await readlink(path)
  return entry
}

/** A listing: the entries (names relative to the directory) and whether `limit` cut it short. */
export interface Listing { entries: FileEntry[], truncated: boolean }

/**
 * Lists a directory, breadth first when `recursive` (symlinked directories are not entered), at most
 * `limit` entries; names below the top are relative paths (`a/b.txt`).
 */
export async function listDirectory (dir: string, recursive: boolean, limit: number): Promise<Listing> {
  const entries: FileEntry[] = []
  const queue: string[] = ['']
  while (queue.length > 0) {
    const rel = queue.shift() as string
    let handle: Dir
    try {
      handle = await opendir(join(dir, rel))
    } catch (err) {
      if (rel === '') throw err
      continue // a subdirectory that vanished or is unreadable is skipped, not fatal
    }
    const names: string[] = []
    for await (const dirent of handle) names.push(dirent.name)
    names.sort()
    for (const name of names) {
      const relName = rel === '' ? name : `${rel}/${name}`
      let entry: FileEntry
      try { entry = await describeEntry(join(dir, relName), relName) } catch { continue }
      if (entries.length >= limit) return { entries, truncated: true }
      entries.push(entry)
      if (recursive && entry.type === 'directory') queue.push(relName)
    }
  }
  return { entries, truncated: false }
}
