import { createWriteStream } from 'node:fs'
import { chmod, lstat, mkdir, mkdtemp, realpath, rm, symlink, unlink, utimes } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { extract, type Extract } from 'tar-stream'
import { Errors } from '../errors.js'
import { isInside } from './paths.js'
import { mergeExtracted } from './tar-merge.js'
import { errorMessage } from '../lib/error-message.js'

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

interface Directory { path: string, mode: number, mtime: Date | undefined }

/** Writes one entry under `root` (the staging directory); symlink targets are checked against `final`, where it will live. */
async function writeEntry (root: string, final: string, entry: Entry, strip: number, directories: Directory[]): Promise<void> {
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
      // Why: a body that ended or failed mid-entry destroyed the entry while we awaited above, and
      // piping a destroyed tar-stream (streamx) entry never settles: the request would hang.
      if (entry.destroyed || (entry as { destroying?: boolean }).destroying === true) throw new Error('the archive ended in the middle of an entry')
      await pipeline(entry, createWriteStream(target, { flags: 'wx', mode }))
      await chmod(target, mode)
      if (header.mtime) await utimes(target, header.mtime, header.mtime)
      return
    }
    case 'symlink': {
      entry.resume()
      const link = header.linkname ?? ''
      const finalPlace = join(final, relative(root, target))
      if (link === '' || !isInside(final, resolve(dirname(finalPlace), link))) throw refuse(header.name, `symlink to ${link} points outside`)
      await ensureParent(root, target, header.name)
      await removeIfNotDirectory(target)
      await symlink(link, target)
      return
    }
    case 'link': throw refuse(header.name, 'hard links are not extracted')
    default: throw refuse(header.name, `${header.type ?? 'unknown'} entries are not extracted`)
  }
}

/** Extracts every entry into `staging`; resolves the count and the directories whose mode and mtime are set last. */
async function extractInto (body: Readable, staging: string, final: string, strip: number): Promise<{ count: number, directories: Directory[] }> {
  const extractor = extract()
  const fed = pipeline(body, extractor).then(() => null, (err: unknown) => err)
  const directories: Directory[] = []
  let count = 0
  try {
    for await (const entry of extractor) {
      await writeEntry(staging, final, entry, strip, directories)
      count++
    }
  } catch (err) {
    extractor.destroy()
    body.destroy()
    await fed
    if ((err as { code?: string }).code === 'UNSAFE_ARCHIVE_ENTRY') throw err
    if ((err as NodeJS.ErrnoException).syscall === undefined && !(err as { code?: string }).code) throw refuse('archive', `not a readable tar: ${errorMessage(err)}`)
    throw err
  }
  const failure = await fed
  if (failure) throw failure
  return { count, directories }
}

/**
 * Extracts a tar stream into the existing directory `dir`, all or nothing: the entries go to a
 * staging directory inside `dir` first and are renamed into place only once the whole archive was
 * read and no entry conflicts. An entry that would escape `dir` (`..`, absolute, a symlink pointing
 * out, a path through such a link), a hard link or a device refuses the archive with
 * UNSAFE_ARCHIVE_ENTRY; a broken archive too; `dir` is then unchanged. Resolves the count of entries.
 */
export async function extractTar (body: Readable, dir: string, options: ExtractOptions = {}): Promise<number> {
  const root = await realpath(dir)
  // Why inside `dir`: the same file system, so moving the extracted tree into place is renames.
  const staging = await mkdtemp(join(root, '.agent-runtime-extract-'))
  try {
    const { count, directories } = await extractInto(body, staging, root, options.strip ?? 0)
    await mergeExtracted(staging, root)
    // Why last: a read-only directory mode would stop its own entries from being written.
    for (const { path, mode, mtime } of directories.reverse()) {
      const placed = join(root, relative(staging, path))
      await chmod(placed, mode)
      if (mtime) await utimes(placed, mtime, mtime)
    }
    return count
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
}
