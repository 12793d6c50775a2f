import { accessSync, constants } from 'node:fs'
import { freeSpace } from '../lib/free-space.js'
import type { StorageProblem } from './storage-errors.js'

// Why 1 MiB: below it a new job's record and folder are likely to fail; above it they still fit.
const FULL_BELOW_BYTES = 1024 * 1024

/** The state directory's storage as `GET /health` shows it. */
export interface StorageState {
  state: 'ok' | StorageProblem
  /** Bytes the server may still use on the state directory's file system; null when unknown. */
  freeBytes: number | null
}

/** `StorageState` with the jobs whose last change waits in memory for the disk: `storage` of `GET /health`. */
export type StorageHealth = StorageState & { unsavedJobs: number }

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
  const free = freeSpace(stateDir)
  const freeBytes = free?.bytes ?? null
  if (writableDirs.some(readOnly)) return { state: 'read-only', freeBytes }
  const full = free !== null && (free.noInodes || free.bytes < FULL_BELOW_BYTES)
  return { state: full ? 'full' : 'ok', freeBytes }
}
