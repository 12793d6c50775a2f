import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { pathToFileURL } from 'node:url'
import { RequestError, type ReadTextFileRequest, type ReadTextFileResponse, type WriteTextFileRequest } from '@agentclientprotocol/sdk'
import type { Sandbox } from './paths.js'

// The largest file fs/read_text_file returns (an ACP message is at most 32 MiB).
const MAX_READ_BYTES = 16 * 1024 * 1024

/** The agent's fs/read_text_file and fs/write_text_file, confined to the workdir. */
export class FsService {
  readonly #sandbox: Sandbox

  constructor (sandbox: Sandbox) {
    this.#sandbox = sandbox
  }

  /** Reads a text file (from 1-based `line`, at most `limit` lines); a missing file is -32002. */
  async read (params: ReadTextFileRequest): Promise<ReadTextFileResponse> {
    const path = this.#inside(params.path)
    let size: number
    try {
      const info = await stat(path)
      if (!info.isFile()) throw RequestError.invalidParams({ path: params.path }, 'not a regular file')
      size = info.size
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw RequestError.resourceNotFound(pathToFileURL(params.path).href)
      throw err
    }
    if (size > MAX_READ_BYTES) throw RequestError.invalidParams({ path: params.path, size }, `file larger than ${MAX_READ_BYTES} bytes`)
    const content = await readFile(path, 'utf8')
    const line = params.line ?? 1
    const limit = params.limit ?? undefined
    if (line <= 1 && limit === undefined) return { content }
    const lines = content.split(/(?<=\n)/)
    return { content: lines.slice(Math.max(0, line - 1), limit === undefined ? undefined : Math.max(0, line - 1) + limit).join('') }
  }

  /** Writes a text file, creating it and its parent directories when missing. */
  async write (params: WriteTextFileRequest): Promise<void> {
    const path = this.#inside(params.path)
    await mkdir(dirname(path), { recursive: true })
    await writeFile(path, params.content, 'utf8')
  }

  #inside (path: string): string {
    const real = this.#sandbox.resolve(path)
    if (real === null) throw RequestError.invalidParams({ path }, `path outside the workdir ${this.#sandbox.root}`)
    return real
  }
}
