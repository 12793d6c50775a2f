import { createReadStream } from 'node:fs'
import { mkdir, stat } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { PassThrough, Readable, type Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { RuntimeError, type RuntimeClient } from '../client/index.js'
import { writeFileAtomically } from '../files/atomic-write.js'
import { extractTar } from '../files/tar-extract.js'
import { packTar } from '../files/tar-pack.js'
import type { CommandIo } from './io.js'
import { progressBar } from './progress.js'

const REMOTE_PREFIX = 'server:'

/** One side of `agent-server cp`: a path on the server (`server:PATH`) or here. */
export interface CpEndpoint { remote: boolean, path: string }

/** Reads `server:PATH` as a server path and anything else as a local one (write `./server:x` for a local file named so). */
export function parseCpEndpoint (arg: string): CpEndpoint {
  return arg.startsWith(REMOTE_PREFIX) ? { remote: true, path: arg.slice(REMOTE_PREFIX.length) || '.' } : { remote: false, path: arg }
}

/** `source` through `transform`; an error of either ends the other (pipe() alone would hang on a read error). */
function through (source: Readable, transform: Transform): Readable {
  pipeline(source, transform).catch(() => { /* the reader of `transform` sees the error */ })
  return transform
}

const localStat = async (path: string): Promise<import('node:fs').Stats | null> => stat(path).catch(() => null)

async function remoteIsDirectory (client: RuntimeClient, path: string): Promise<boolean> {
  try {
    const info = await client.files.stat(path)
    if (info.type === 'symlink') return (await client.files.list(path, { limit: 1 }).then(() => true, () => false))
    return info.type === 'directory'
  } catch (err) {
    if (err instanceof RuntimeError && err.code === 'FILE_NOT_FOUND') return false
    throw err
  }
}

/** Where a copy lands: inside `dst` when it is an existing directory (or ends with /), else `dst` itself. */
const landing = (dst: string, dstIsDirectory: boolean, src: string): string =>
  dstIsDirectory || dst.endsWith('/') ? join(dst, basename(src)) : dst

async function upload (client: RuntimeClient, src: string, dst: string, meter: (label: string, total: number | null) => Transform): Promise<void> {
  const stats = await stat(src)
  const target = landing(dst, await remoteIsDirectory(client, dst), src)
  if (stats.isDirectory()) {
    const tar = through(Readable.from(packTar(src, { prefix: '' })), meter(basename(src) + '/', null))
    await client.files.uploadTar(target, tar, { mkdir: true })
    return
  }
  const body = through(createReadStream(src), meter(basename(src), stats.size))
  await client.files.upload(target, body, { mode: stats.mode & 0o777 })
}

async function download (client: RuntimeClient, src: string, dst: string, meter: (label: string, total: number | null) => Transform): Promise<void> {
  const info = await client.files.stat(src)
  const local = await localStat(dst)
  const target = landing(dst, local?.isDirectory() === true, src)
  if (info.type === 'directory' || (info.type === 'symlink' && await remoteIsDirectory(client, src))) {
    await mkdir(target, { recursive: true })
    const tar = await client.files.downloadTar(src)
    await extractTar(through(tar.toNodeStream(), meter(basename(src) + '/', null)), target, { strip: 1 })
    return
  }
  const file = await client.files.download(src)
  await writeFileAtomically(through(file.toNodeStream(), meter(basename(src), file.size)), target, { mode: parseInt(info.mode, 8) & 0o777 })
}

/**
 * `agent-server cp SRC DST`: copies a file or a directory tree (through tar) between here and the
 * server, one side written `server:PATH`, like `docker cp`; a progress line on a terminal's stderr.
 */
export async function runCp (client: RuntimeClient, srcArg: string, dstArg: string, options: { progress?: boolean | undefined }, io: CommandIo): Promise<number> {
  const src = parseCpEndpoint(srcArg)
  const dst = parseCpEndpoint(dstArg)
  if (src.remote === dst.remote) {
    io.stderr.write(`agent-server cp: exactly one of SRC and DST must be a server path (${REMOTE_PREFIX}PATH)\n`)
    return 2
  }
  const show = options.progress !== false && io.stderr.isTTY === true
  const meter = (label: string, total: number | null): Transform => show ? progressBar(io.stderr, label, total) : new PassThrough()
  if (src.remote) await download(client, src.path, dst.path, meter)
  else await upload(client, src.path, dst.path, meter)
  return 0
}
