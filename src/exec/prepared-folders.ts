import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs'
import { dirname } from 'node:path'
import { freeSpace } from '../lib/free-space.js'

// Below this much free space a submit makes its folder itself, so that a full disk is refused
// exactly as without prepared folders (the folder's own creation fails with ENOSPC).
const MIN_FREE_BYTES = 16 * 1024 * 1024

// Where prepared folders live: beside the job folders (same file system, so a rename moves one).
const PREPARED_DIR_NAME = '.prepared'

/** Asks the launcher for a folder at `dir`: the request's number, or null when no launcher can take it now. */
export type PrepareRequest = (dir: string) => number | null

/**
 * A small stock of job folders the launcher made ahead of time, each with the job's output files,
 * the launch and exit placeholders and the stdin FIFO (see native/launcher). A submit renames one
 * into place instead of creating six files on the job's path (60-200 µs each on ext4 here).
 */
// Why lazily rooted: the first folder taken names where job folders live; leftovers of an earlier
// server there are removed then, and that first submit makes its folder itself.
export class PreparedFolders {
  readonly #size: number
  readonly #request: PrepareRequest
  readonly #ready: string[] = []
  /** Folders asked for and not answered yet, by request number. */
  readonly #making = new Map<number, string>()
  #root: string | undefined
  #next = 0

  constructor (size: number, request: PrepareRequest) {
    this.#size = size
    this.#request = request
  }

  /** Moves a prepared folder to `dir` (which must not exist); false when none could be used (the caller makes `dir`). */
  take (dir: string): boolean {
    const root = this.#rootFor(dir)
    if (root === undefined) return false
    const folder = this.#ready.pop()
    this.#refill(root)
    if (folder === undefined) return false
    if (lowOnSpace(dirname(dir))) {
      this.#ready.push(folder)
      return false
    }
    try {
      renameSync(folder, dir)
      return true
    } catch {
      removeQuietly(folder)
      // Why: someone removed the whole stock (a clean-up by hand); the next submit makes it again.
      if (!existsSync(root)) this.#forgetRoot()
      return false
    }
  }

  /** The launcher's answer to request `request`: true when it was a prepare request (`ok`: the folder is ready). */
  answered (request: number, ok: boolean): boolean {
    const dir = this.#making.get(request)
    if (dir === undefined) return false
    this.#making.delete(request)
    if (ok) this.#ready.push(dir)
    return true
  }

  /** The launcher died: folders it was making may be half made; they are removed. */
  launcherDied (): void {
    for (const dir of this.#making.values()) removeQuietly(dir)
    this.#making.clear()
  }

  /** Removes every prepared folder (the server stops). */
  close (): void {
    this.launcherDied()
    for (const dir of this.#ready.splice(0)) removeQuietly(dir)
  }

  #forgetRoot (): void {
    this.#root = undefined
    this.#ready.length = 0
  }

  #rootFor (dir: string): string | undefined {
    if (this.#root !== undefined) return this.#root
    const root = `${dirname(dir)}/${PREPARED_DIR_NAME}`
    try {
      rmSync(root, { recursive: true, force: true })
      mkdirSync(root, { mode: 0o700 })
    } catch {
      return undefined // a read-only or full state dir: tried again at the next submit
    }
    this.#root = root
    return root
  }

  #refill (root: string): void {
    while (this.#ready.length + this.#making.size < this.#size) {
      const dir = `${root}/${++this.#next}`
      const request = this.#request(dir)
      if (request === null) return
      this.#making.set(request, dir)
    }
  }
}

function lowOnSpace (path: string): boolean {
  const free = freeSpace(path)
  return free === null || free.noInodes || free.bytes < MIN_FREE_BYTES
}

function removeQuietly (dir: string): void {
  try { rmSync(dir, { recursive: true, force: true }) } catch { /* left for the next server's clean-up */ }
}
