import { Readable } from 'node:stream'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import type { FileEntry, FileListing, FileStat } from '../contract/files.js'

/** A request body the files API streams: bytes, text, a Node stream, a Web stream or any async iterable of bytes. */
export type UploadBody = Uint8Array | string | Readable | ReadableStream<Uint8Array> | WebReadableStream<Uint8Array> | AsyncIterable<Uint8Array>

/** How the files client reaches the server (RuntimeClient's authenticated fetch, which throws RuntimeError on an error answer). */
export type FilesTransport = (method: string, path: string, options: {
  body?: unknown
  raw?: unknown
  headers?: Record<string, string>
  signal?: AbortSignal | undefined
}) => Promise<Response>

export type { FileEntry, FileListing, FileStat }

/** What a path is, as the files API reports it. */
export type FileEntryType = FileEntry['type']

/** A download in progress: its body as a Web stream (or a Node stream), and its headers. */
export interface FileDownload {
  status: number
  /** Bytes to come (Content-Length), or null for a tar stream. */
  size: number | null
  etag: string | null
  lastModified: string | null
  body: ReadableStream<Uint8Array>
  /** The body as a Node Readable. */
  toNodeStream: () => Readable
}

const bodyOf = (body: UploadBody): unknown =>
  body instanceof Readable || (typeof body === 'object' && body !== null && Symbol.asyncIterator in body && !(body instanceof ReadableStream))
    ? Readable.from(body as AsyncIterable<Uint8Array>)
    : body

const flag = (on: boolean | undefined): string | undefined => on === true ? '1' : undefined

function queryOf (params: Record<string, string | number | undefined>): string {
  const entries = Object.entries(params).filter((entry): entry is [string, string | number] => entry[1] !== undefined)
  return '?' + new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString()
}

function toDownload (response: Response): FileDownload {
  const length = response.headers.get('content-length')
  const body = response.body ?? new ReadableStream<Uint8Array>({ start: (controller) => controller.close() })
  return {
    status: response.status,
    size: length === null ? null : Number(length),
    etag: response.headers.get('etag'),
    lastModified: response.headers.get('last-modified'),
    body,
    toNodeStream: () => Readable.fromWeb(body as WebReadableStream<Uint8Array>),
  }
}

/** The files API of a server: streamed download and upload, tar, listing, stat, delete, move, mkdir. */
export class FilesClient {
  readonly #send: FilesTransport

  constructor (send: FilesTransport) {
    this.#send = send
  }

  /** Streams a file (or `range` of it, inclusive) from the server. */
  async download (path: string, options: { range?: { start: number, end?: number }, signal?: AbortSignal } = {}): Promise<FileDownload> {
    const headers: Record<string, string> = options.range ? { range: `bytes=${options.range.start}-${options.range.end ?? ''}` } : {}
    return toDownload(await this.#send('GET', `/files${queryOf({ path })}`, { headers, signal: options.signal }))
  }

  /** A whole file's bytes (for small files; stream big ones with `download`). */
  async downloadBytes (path: string): Promise<Uint8Array> {
    const response = await this.#send('GET', `/files${queryOf({ path })}`, {})
    return new Uint8Array(await response.arrayBuffer())
  }

  /** Streams a file or a directory tree as a tar archive (entries named from the path's base name). */
  async downloadTar (path: string, options: { signal?: AbortSignal } = {}): Promise<FileDownload> {
    return toDownload(await this.#send('GET', `/files${queryOf({ path, format: 'tar' })}`, { signal: options.signal }))
  }

  /**
   * Streams `body` to a file, atomically replacing it. `ifMatch` (an ETag) makes it fail with 412 when
   * the file changed; `mkdir` creates missing parents. Resolves whether the file was created, and its new ETag.
   */
  async upload (path: string, body: UploadBody, options: { mode?: number | string, mkdir?: boolean, ifMatch?: string, signal?: AbortSignal } = {}): Promise<{ created: boolean, etag: string | null }> {
    const mode = typeof options.mode === 'number' ? options.mode.toString(8).padStart(4, '0') : options.mode
    const response = await this.#send('PUT', `/files${queryOf({ path, mode, mkdir: flag(options.mkdir) })}`, {
      raw: bodyOf(body),
      headers: { 'content-type': 'application/octet-stream', ...(options.ifMatch ? { 'if-match': options.ifMatch } : {}) },
      signal: options.signal,
    })
    await response.body?.cancel()
    return { created: response.status === 201, etag: response.headers.get('etag') }
  }

  /** Streams a tar archive to the server, which extracts it into the directory `path` (refusing entries that escape it). */
  async uploadTar (path: string, tar: UploadBody, options: { mkdir?: boolean, signal?: AbortSignal } = {}): Promise<{ path: string, entries: number }> {
    const response = await this.#send('PUT', `/files${queryOf({ path, extract: '1', mkdir: flag(options.mkdir) })}`, {
      raw: bodyOf(tar),
      headers: { 'content-type': 'application/x-tar' },
      signal: options.signal,
    })
    return await response.json() as { path: string, entries: number }
  }

  /** The entries of a directory (all of its tree with `recursive`), at most `limit`. */
  async list (path: string, options: { recursive?: boolean, limit?: number } = {}): Promise<FileListing> {
    return await (await this.#send('GET', `/files/list${queryOf({ path, recursive: flag(options.recursive), limit: options.limit })}`, {})).json() as FileListing
  }

  async stat (path: string): Promise<FileStat> {
    return await (await this.#send('GET', `/files/stat${queryOf({ path })}`, {})).json() as FileStat
  }

  /** Deletes a file, a symlink, an empty directory, or a whole tree with `recursive`. */
  async remove (path: string, options: { recursive?: boolean } = {}): Promise<void> {
    await this.#send('DELETE', `/files${queryOf({ path, recursive: flag(options.recursive) })}`, {})
  }

  async move (from: string, to: string, options: { overwrite?: boolean } = {}): Promise<{ from: string, to: string }> {
    return await (await this.#send('POST', '/files/move', { body: { from, to, overwrite: options.overwrite === true } })).json() as { from: string, to: string }
  }

  /** Creates a directory and its parents; `created` is false when it already existed. */
  async mkdir (path: string, options: { mode?: string } = {}): Promise<{ path: string, created: boolean }> {
    return await (await this.#send('POST', '/files/mkdir', { body: { path, ...(options.mode ? { mode: options.mode } : {}) } })).json() as { path: string, created: boolean }
  }
}
