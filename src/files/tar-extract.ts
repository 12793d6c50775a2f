import { createWriteStream } from 'node:fs'
import { chmod, lstat, mkdir, realpath, symlink, unlink, utimes } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { extract, type Extract } from 'tar-stream'
import { Errors } from '../errors.js'
import { isInside } from './paths.js'

/** How to extract: drop this many leading path components of each entry (as `tar --strip-components`). */
export interface ExtractOptions { strip?: number }

type Entry = Extract extends AsyncIterable<infer T> ? T : never

// Why no setuid/setgid bits: an uploaded archive must not plant privileged executables.
const SAFE_MODE_BITS = 0o1777

const refuse = (name: string, reason: string): Error => new Errors.UNSAFE_ARCHIVE_ENTRY(`${name} (${reason})`)

/** The entry's path components, refusing absolute names and `..`. */
function safeParts (name: string): string[] {
  if (name.startsWith('/') || /^[A-Za-z]:[\\/]/.test(name)) throw refuse(name, 'absolute path')
  const parts = name.split(/[\\/]/).filter((part) => part !== '' && part !== '.')
  if (parts.includes('..')) throw refuse(name, 'escapes the directory')
  return parts
}

/** The real path of `path` or of its deepest existing ancestor plus the rest. */
async function realOrAncestor (path: string): Promise<string> {
  try { return await realpath(path) } catch {
    const parent = dirname(path)
    return parent === path ? path : join(await realOrAncestor(parent), path.slice(parent.length))
  }
}

/** Creates the parent directories of `target`, refusing when an existing one leads outside `root`. */
async function ensureParent (root: string, target: string, name: string): Promise<void> {
  const parent = dirname(target)
  if (!isInside(root, await realOrAncestor(parent))) throw refuse(name, 'a directory on its path points outside')
  await mkdir(parent, { recursive: true })
}

async function removeIfNotDirectory (path: string): Promise<void> {
  try {
    if (!(await lstat(path)).isDirectory()) await unlink(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
}

async function writeEntry (root: string, entry: Entry, strip: number, directories: Array<{ path: string, mode: number, mtime: Date | undefined }>): Promise<void> {
  const { header } = entry
  const parts = safeParts(header.name)
  const target = join(root, ...parts.slice(strip))
  if (parts.length <= strip || target === root) {
    entry.resume()
    if (header.type === 'directory' && parts.length === strip) directories.push({ path: root, mode: (header.mode ?? 0o755) & SAFE_MODE_BITS, mtime: header.mtime })
    return
  }
  const mode = (header.mode ?? 0o644) & SAFE_MODE_BITS
  switch (header.type) {
    case 'directory':
      entry.resume()
      await ensureParent(root, target, header.name)
      await mkdir(target, { recursive: true })
      if (!isInside(root, await realpath(target))) throw refuse(header.name, 'points outside')
      directories.push({ path: target, mode, mtime: header.mtime })
      return
    case 'file':
    case 'contiguous-file': {
      await ensureParent(root, target, header.name)
      await removeIfNotDirectory(target)
      await pipeline(entry, createWriteStream(target, { flags: 'wx', mode }))
      await chmod(target, mode)
      if (header.mtime) await utimes(target, header.mtime, header.mtime)
      return
    }
    case 'symlink': {
      entry.resume()
      const link = header.linkname ?? ''
      if (link === '' || !isInside(root, resolve(dirname(target), link))) throw refuse(header.name, `symlink to ${link} points outside`)
      await ensureParent(root, target, header.name)
      await removeIfNotDirectory(target)
      await symlink(link, target)
      return
    }
    case 'link': throw refuse(header.name, 'hard links are not extracted')
    default: throw refuse(header.name, `${header.type ?? 'unknown'} entries are not extracted`)
  }
}

/**
 * Extracts a tar stream into the existing directory `dir`. Stops at the first entry that would
 * escape it (`..`, absolute, a symlink pointing out, a path through such a link), a hard link or
 * a device, with UNSAFE_ARCHIVE_ENTRY; nothing is ever written outside `dir`. Resolves the count of entries.
 */
export async function extractTar (body: Readable, dir: string, options: ExtractOptions = {}): Promise<number> {
  const root = await realpath(dir)
  const strip = options.strip ?? 0
  const extractor = extract()
  const fed = pipeline(body, extractor).then(() => null, (err: unknown) => err)
  const directories: Array<{ path: string, mode: number, mtime: Date | undefined }> = []
  let count = 0
  try {
    for await (const entry of extractor) {
      await writeEntry(root, entry, strip, directories)
      count++
    }
  } catch (err) {
    extractor.destroy()
    body.destroy()
    await fed
    if ((err as { code?: string }).code === 'UNSAFE_ARCHIVE_ENTRY') throw err
    if ((err as NodeJS.ErrnoException).syscall === undefined && !(err as { code?: string }).code) throw refuse('archive', `not a readable tar: ${(err as Error).message}`)
    throw err
  }
  const failure = await fed
  if (failure) throw failure
  // Why last: a read-only directory mode would stop its own entries from being written.
  for (const { path, mode, mtime } of directories.reverse()) {
    await chmod(path, mode)
    if (mtime) await utimes(path, mtime, mtime)
  }
  return count
}
