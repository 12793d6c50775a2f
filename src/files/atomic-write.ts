import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { open, rename, stat, unlink } from 'node:fs/promises'
import { Transform, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { basename, dirname, join } from 'node:path'
import { Errors } from '../errors.js'
import { toFileError } from './fs-errors.js'
import { makeDirs } from './make-dirs.js'

// Why 1 MiB: with the default 16 KiB the socket is paused after every chunk and each 64 KiB
// chunk is its own write(2); a larger buffer lets writev batch them (scripts/bench/files.ts).
const WRITE_BUFFER_BYTES = 1024 * 1024

/** How PUT /files writes: permission bits, parents, a byte limit, and a check run just before the rename. */
export interface WriteOptions {
  /** Permission bits for the file; default: the replaced file's, else 0666 minus the umask. */
  mode?: number | undefined
  mkdir?: boolean | undefined
  /** Most bytes accepted, or null for no limit. */
  maxBytes?: number | null | undefined
  /** Runs after the bytes are on disk, just before the rename; throwing cancels the write (If-Match). */
  beforeRename?: (() => Promise<void>) | undefined
}

/** A temp file name beside `target`, hidden, unique, recognisable. */
export const tempPathFor = (target: string): string =>
  join(dirname(target), `.${basename(target)}.upload-${randomBytes(6).toString('hex')}`)

/** Counts bytes through and fails with UPLOAD_TOO_LARGE past `maxBytes`. */
export function byteLimit (maxBytes: number): Transform {
  let seen = 0
  return new Transform({
    transform (chunk: Buffer, _encoding, callback) {
      seen += chunk.length
      if (seen > maxBytes) callback(new Errors.UPLOAD_TOO_LARGE(maxBytes))
      else callback(null, chunk)
    },
  })
}

async function fsyncDirectory (dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try { await handle.sync() } finally { await handle.close() }
}

/**
 * Streams `body` into a temp file in the target's directory, fsyncs it and renames it over `target`:
 * readers see the old file or the new one, never a part. On any failure (a dropped client, a full
 * disk, the limit) the temp file is removed and the target is untouched. Resolves true when the
 * target did not exist before.
 */
export async function writeFileAtomically (body: Readable, target: string, options: WriteOptions = {}): Promise<boolean> {
  const dir = dirname(target)
  if (options.mkdir === true) {
    try { await makeDirs(dir) } catch (err) { throw toFileError(err, dir) }
  }
  let previousMode: number | undefined
  try {
    const before = await stat(target)
    if (before.isDirectory()) throw new Errors.IS_A_DIRECTORY(target)
    previousMode = before.mode & 0o7777
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw toFileError(err, target)
  }
  const temp = tempPathFor(target)
  let handle
  try { handle = await open(temp, 'wx', 0o666) } catch (err) { throw toFileError(err, (err as NodeJS.ErrnoException).code === 'ENOENT' ? dir : target) }
  let renamed = false
  try {
    const mode = options.mode ?? previousMode
    if (mode !== undefined) await handle.chmod(mode)
    // Why a bare fd: a FileHandle's own write stream keeps a reference that makes close() wait forever here.
    const sink = createWriteStream('', { fd: handle.fd, autoClose: false, highWaterMark: WRITE_BUFFER_BYTES })
    const limit = options.maxBytes ?? null
    await (limit === null ? pipeline(body, sink) : pipeline(body, byteLimit(limit), sink))
    await handle.sync()
    await handle.close()
    handle = undefined
    await options.beforeRename?.()
    let created = false
    try { await stat(target) } catch { created = true }
    await rename(temp, target)
    renamed = true
    await fsyncDirectory(dir)
    return created
  } catch (err) {
    throw toFileError(err, target)
  } finally {
    await handle?.close().catch(() => {})
    if (!renamed) await unlink(temp).catch(() => {})
  }
}
