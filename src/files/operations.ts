import { cp, lstat, rename, rm, rmdir, stat, unlink } from 'node:fs/promises'
import { Errors } from '../errors.js'
import { onPath } from './fs-errors.js'
import { makeDirs } from './make-dirs.js'

/** Deletes a file, a symlink, an empty directory, or (with `recursive`) a whole tree. */
export async function removePath (path: string, recursive: boolean): Promise<void> {
  if (path === '/') throw new Errors.INVALID_REQUEST('refusing to delete /')
  await onPath(path, async () => {
    const stats = await lstat(path)
    if (!stats.isDirectory()) await unlink(path)
    else if (recursive) await rm(path, { recursive: true })
    else await rmdir(path)
  })
}

const exists = async (path: string): Promise<boolean> => {
  try { await lstat(path); return true } catch { return false }
}

/**
 * Renames `from` to `to` (across devices: copy, then delete). An existing `to` is replaced only
 * with `overwrite` (a directory by a directory, a file by a file, as rename(2) allows).
 */
export async function movePath (from: string, to: string, overwrite: boolean): Promise<void> {
  await onPath(from, () => lstat(from))
  if (!overwrite && await exists(to)) throw new Errors.FILE_EXISTS(to)
  await onPath(to, async () => {
    try {
      await rename(from, to)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err
      await cp(from, to, { recursive: true, force: overwrite, errorOnExist: !overwrite, preserveTimestamps: true, verbatimSymlinks: true })
      await rm(from, { recursive: true })
    }
  })
}

/** Creates a directory (and its parents); resolves whether it was created (false: it already was one). */
export async function makeDirectory (path: string, mode: number | undefined): Promise<boolean> {
  return onPath(path, async () => {
    try {
      if ((await stat(path)).isDirectory()) return false
      throw new Errors.FILE_EXISTS(path)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
    await makeDirs(path, mode)
    return true
  })
}
