import { accessSync, constants, statfsSync } from 'node:fs'
import type { StorageProblem } from './storage-errors.js'

// Why 1 MiB: below it a new job's record and folder are likely to fail; above it they still fit.
const FULL_BELOW_BYTES = 1024 * 1024

/** The state directory's storage as `GET /health` shows it. */
export interface StorageState {
  state: 'ok' | StorageProblem
  /** Bytes the server may still use on the state directory's file system; null when unknown. */
  freeBytes: number | null
}

function readOnly (dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK)
    return false
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EROFS'
  }
}

/**
 * Looks at the storage now (not at the last write): `read-only` when `writableDirs` (the state
 * directory and where job folders go) are on a read-only mount, `full` when less than 1 MiB or no
 * inode is free on the state directory's file system, else `ok`.
 */
export function probeStorage (stateDir: string, writableDirs: readonly string[]): StorageState {
  let freeBytes: number | null = null
  let noInodes = false
  try {
    const fs = statfsSync(stateDir)
    freeBytes = fs.bavail * fs.bsize
    // Why `files > 0`: file systems without an inode limit (btrfs) report 0 of 0.
    noInodes = fs.files > 0 && fs.ffree === 0
  } catch { /* unknown: left null */ }
  if (writableDirs.some(readOnly)) return { state: 'read-only', freeBytes }
  const full = noInodes || (freeBytes !== null && freeBytes < FULL_BELOW_BYTES)
  return { state: full ? 'full' : 'ok', freeBytes }
}
