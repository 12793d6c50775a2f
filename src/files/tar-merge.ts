import { lstat, readdir, realpath, rename, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { Errors } from '../errors.js'
import { isInside } from './paths.js'

/** One rename that moves an extracted entry (a whole subtree for a new directory) into place. */
interface Move { from: string, to: string }

const conflict = (name: string, reason: string): Error => new Errors.UNSAFE_ARCHIVE_ENTRY(`${name} (${reason})`)

async function lstatOrNull (path: string): Promise<import('node:fs').Stats | null> {
  try { return await lstat(path) } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
}

/** The directory an existing path leads to inside `root`, or null when it is no such directory. */
async function directoryInside (root: string, path: string, stats: import('node:fs').Stats): Promise<string | null> {
  if (stats.isDirectory()) return path
  if (!stats.isSymbolicLink()) return null
  const real = await realpath(path).catch(() => null)
  if (real === null || !isInside(root, real)) return null
  return (await stat(real)).isDirectory() ? real : null
}

/**
 * The renames that merge the extracted tree `from` into the existing directory `into` (inside
 * `root`), planned before anything moves so that a conflict leaves `into` untouched: a file or
 * symlink replaces a file or symlink; a directory is merged into an existing one (also through a
 * symlink that stays inside `root`) or moved whole; anything else is refused.
 */
async function planMerge (root: string, from: string, into: string, name: string, moves: Move[]): Promise<void> {
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const source = join(from, entry.name)
    const target = join(into, entry.name)
    const shown = name === '' ? entry.name : `${name}/${entry.name}`
    const existing = await lstatOrNull(target)
    if (existing === null) {
      moves.push({ from: source, to: target })
      continue
    }
    const existingDir = await directoryInside(root, target, existing)
    if (entry.isDirectory()) {
      if (existingDir !== null) await planMerge(root, source, existingDir, shown, moves)
      else if (existing.isSymbolicLink()) throw conflict(shown, 'an existing symlink there points outside or to no directory')
      else throw conflict(shown, 'a directory in the archive, a file in the target')
      continue
    }
    if (existing.isDirectory()) throw conflict(shown, 'a file in the archive, a directory in the target')
    moves.push({ from: source, to: target })
  }
}

/**
 * Moves everything extracted into `staging` (a directory on the same file system) into `root`.
 * Every conflict is found before the first move; the moves themselves are renames.
 */
export async function mergeExtracted (staging: string, root: string): Promise<void> {
  const moves: Move[] = []
  await planMerge(root, staging, root, '', moves)
  for (const move of moves) await rename(move.from, move.to)
}
