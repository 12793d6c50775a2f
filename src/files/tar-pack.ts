import { createReadStream } from 'node:fs'
import { lstat, readdir, readlink } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { pack, type Pack } from 'tar-stream'

/** How a tar of a path is named: entries are `prefix/…` (or bare relative names with prefix ''). */
export interface PackOptions { prefix: string }

async function addEntry (archive: Pack, path: string, name: string): Promise<void> {
  const stats = await lstat(path)
  const common = { name, mode: stats.mode & 0o7777, mtime: stats.mtime, uid: stats.uid, gid: stats.gid }
  if (stats.isDirectory()) {
    if (name !== '') archive.entry({ ...common, name: `${name}/`, type: 'directory' })
    for (const child of (await readdir(path)).sort()) await addEntry(archive, join(path, child), name === '' ? child : `${name}/${child}`)
  } else if (stats.isSymbolicLink()) {
    archive.entry({ ...common, type: 'symlink', linkname: await readlink(path) })
  } else if (stats.isFile()) {
    if (stats.size === 0) {
      archive.entry({ ...common, type: 'file', size: 0 }, Buffer.alloc(0))
      return
    }
    // Why: the size in the header must be the bytes we send; a file growing meanwhile is cut to it.
    const sink = archive.entry({ ...common, type: 'file', size: stats.size })
    await pipeline(createReadStream(path, { start: 0, end: stats.size - 1 }), sink)
  }
  // sockets, FIFOs and devices are left out
}

/**
 * A tar stream of a file or a directory tree (symlinks kept as links, modes and mtimes kept),
 * written entry by entry as the reader takes it; a failure mid-way destroys the stream.
 */
export function packTar (path: string, options: PackOptions): Pack {
  const archive = pack()
  addEntry(archive, path, options.prefix)
    .then(() => archive.finalize())
    .catch((err: unknown) => archive.destroy(err as Error))
  return archive
}
