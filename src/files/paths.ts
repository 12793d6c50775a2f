import { readlink, realpath } from 'node:fs/promises'
import { dirname, isAbsolute, relative, resolve } from 'node:path'
import { Errors } from '../errors.js'
import { onPath } from './fs-errors.js'

/** Where the files API resolves paths: the root for relative ones, and whether paths must stay inside it. */
export interface FilesRoot {
  root: string
  confine: boolean
}

/** True when `path` is `base` or below it (both already resolved). */
export const isInside = (base: string, path: string): boolean => {
  const rel = relative(base, path)
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))
}

/** The real path of `path`, or of its deepest existing ancestor joined with the missing rest. */
async function realpathOfLongestPrefix (path: string): Promise<string> {
  try {
    return await realpath(path)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const parent = dirname(path)
    if ((code !== 'ENOENT' && code !== 'ENOTDIR') || parent === path) throw err
    const realParent = await realpathOfLongestPrefix(parent)
    const here = resolve(realParent, relative(parent, path))
    // Why: a dangling symlink is followed by a later write or mkdir; where it points is what counts.
    const target = await readlink(here).catch(() => null)
    return target === null ? here : realpathOfLongestPrefix(resolve(realParent, target))
  }
}

/**
 * The absolute path a request names: absolute, or relative to the root. With `confine`, the path
 * with every symlink resolved (the last component too) must be inside the root's real path.
 */
export async function resolveRequestPath (files: FilesRoot, raw: string): Promise<string> {
  if (raw === '' || raw.includes('\0')) throw new Errors.INVALID_REQUEST('path must be a non-empty string without NUL bytes')
  const path = resolve(files.root, raw)
  if (!files.confine) return path
  const [realRoot, real] = await onPath(path, () => Promise.all([realpath(files.root), realpathOfLongestPrefix(path)]))
  if (!isInside(realRoot, real)) throw new Errors.PATH_OUTSIDE_ROOT(raw)
  return path
}
