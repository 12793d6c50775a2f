// Telling the state directory's storage failures (full disk, read-only) apart from other errors.
import { Errors } from '../errors.js'

/** What is wrong with the state directory's storage, or undefined for any other error. */
export type StorageProblem = 'full' | 'read-only'

const FULL_CODES: ReadonlySet<string> = new Set(['SQLITE_FULL', 'ENOSPC', 'EDQUOT'])

/** Classifies an error from SQLite or the file system: a full disk, a read-only one, or neither. */
export function storageProblemOf (err: unknown): StorageProblem | undefined {
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code !== 'string') return undefined
  if (FULL_CODES.has(code)) return 'full'
  if (code === 'EROFS' || code.startsWith('SQLITE_READONLY')) return 'read-only'
  return undefined
}

/** The API error for a storage failure (507 DISK_FULL, 503 STATE_READ_ONLY), or `err` itself. */
export function toStorageApiError (err: unknown): unknown {
  const problem = storageProblemOf(err)
  if (problem === 'full') return new Errors.DISK_FULL({ cause: err })
  if (problem === 'read-only') return new Errors.STATE_READ_ONLY({ cause: err })
  return err
}
