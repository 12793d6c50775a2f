import { lstatSync, readlinkSync, realpathSync } from 'node:fs'
import { isAbsolute, join, resolve, sep } from 'node:path'

// Symbolic links followed while resolving one path before it counts as a loop (as ELOOP does).
const MAX_SYMLINKS = 40

/**
 * Where `path` (relative to `base`) really points: every symbolic link on the way is followed,
 * in order, the way the kernel does it (so `link/..` is the parent of the link's target, not
 * `base`). Components that do not exist yet are appended as written.
 */
export function resolveReal (base: string, path: string): string {
  let current = '/'
  // Why: not path.resolve, which would drop `link/..` as text before the link is looked at.
  const pending = (isAbsolute(path) ? path : `${base}${sep}${path}`).split(sep).filter((c) => c !== '')
  let links = 0
  while (pending.length > 0) {
    const part = pending.shift() as string
    if (part === '.') continue
    if (part === '..') {
      current = resolve(current, '..')
      continue
    }
    const next = join(current, part)
    let isLink = false
    try {
      isLink = lstatSync(next).isSymbolicLink()
    } catch {
      // Why: nothing below a missing component can be a link, so the rest is plain text.
      return resolve(next, ...pending)
    }
    if (!isLink) {
      current = next
      continue
    }
    if (++links > MAX_SYMLINKS) throw new Error(`too many symbolic links in ${path}`)
    const target = readlinkSync(next)
    if (isAbsolute(target)) current = '/'
    pending.unshift(...target.split(sep).filter((c) => c !== ''))
  }
  return current
}

/** True when `path` is `root` or lies below it (both already resolved). */
export function isWithin (root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep)
}

// A directory that paths are confined to; symbolic links are resolved before every check.
export class Sandbox {
  readonly root: string

  constructor (dir: string) {
    this.root = realpathSync(dir)
  }

  /** The real location of `path` (relative paths start at the root), or null when it lies outside. */
  resolve (path: string): string | null {
    let real: string
    try {
      real = resolveReal(this.root, path)
    } catch {
      return null
    }
    return isWithin(this.root, real) ? real : null
  }

  contains (path: string): boolean {
    return this.resolve(path) !== null
  }
}
