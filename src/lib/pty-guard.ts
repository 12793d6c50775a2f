import { readSync, writeSync } from 'node:fs'
import type { IPty } from 'node-pty'

/** What node-pty keeps private on Unix but a guard needs: the master's descriptor and the socket reading it. */
interface PtyInternals {
  _fd?: number
  _socket?: { destroyed: boolean }
  on: (event: 'end' | 'error', listener: (err?: Error) => void) => void
}

const TAIL_CHUNK_BYTES = 64 * 1024
// Why a bound: the end was already seen; a program still writing (a background process holding
// the terminal) must not keep the event loop here.
const TAIL_MAX_CHUNKS = 16
// How soon input the terminal could not take (its buffer full) is tried again.
const INPUT_RETRY_MS = 2

/**
 * Reads, without blocking, what the PTY's master still holds: the bytes left after a premature
 * end of input. Stops at the first empty read, error (EAGAIN, EIO) or the bound.
 */
export function readWhatIsLeft (fd: number): Buffer {
  const chunks: Buffer[] = []
  for (let i = 0; i < TAIL_MAX_CHUNKS; i++) {
    const chunk = Buffer.allocUnsafe(TAIL_CHUNK_BYTES)
    let read: number
    try {
      read = readSync(fd, chunk, 0, chunk.length, null)
    } catch {
      break
    }
    if (read === 0) break
    chunks.push(chunk.subarray(0, read))
  }
  return Buffer.concat(chunks)
}

/**
 * What is typed into a terminal, written to its master by this thread (`writeSync`, non-blocking)
 * and only while the descriptor is open. Why not node-pty's `write`: it writes from the thread
 * pool and goes on after the descriptor is closed, so its input landed in whatever file or socket
 * took the number next (a test saw 1 MiB of typed input in a file).
 */
export class PtyInput {
  readonly #term: IPty
  readonly #internals: PtyInternals
  #queue: Buffer[] = []
  #offset = 0
  #retry: NodeJS.Timeout | undefined

  constructor (term: IPty) {
    this.#term = term
    this.#internals = term as unknown as PtyInternals
  }

  /** Types `data` (a string as UTF-8); dropped once the terminal has ended. */
  write (data: string | Buffer): void {
    if (this.#internals._fd === undefined) return this.#term.write(data) // not Unix: node-pty's own way
    const bytes = typeof data === 'string' ? Buffer.from(data) : data
    if (bytes.length === 0 || this.#gone()) return
    this.#queue.push(bytes)
    if (this.#queue.length === 1) this.#flush()
  }

  /** Input bytes typed but not yet taken by the terminal (its buffer is full while the program does not read). */
  get pending (): number {
    return this.#queue.reduce((sum, chunk) => sum + chunk.length, 0) - this.#offset
  }

  /** Drops what is queued: the terminal has ended. */
  close (): void {
    clearTimeout(this.#retry)
    this.#queue = []
    this.#offset = 0
  }

  // Why the socket's state: node-pty closes the descriptor when its socket is destroyed, which can
  // happen (its exit timeout) before any event of the socket tells.
  #gone (): boolean {
    return this.#internals._socket?.destroyed !== false
  }

  #flush (): void {
    this.#retry = undefined
    while (this.#queue.length > 0) {
      if (this.#gone()) return this.close()
      const head = this.#queue[0] as Buffer
      try {
        this.#offset += writeSync(this.#internals._fd as number, head, this.#offset)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return this.close()
        this.#retry = setTimeout(() => this.#flush(), INPUT_RETRY_MS).unref()
        return
      }
      if (this.#offset >= head.length) {
        this.#queue.shift()
        this.#offset = 0
      }
    }
  }
}

/**
 * Guards around node-pty 1.1 (Unix) for the moment a terminal's output ends, a listener for its
 * read errors, and the terminal's input (type through the PtyInput returned, never `term.write`):
 * - The end of output can be reported while the kernel still holds the program's last bytes
 *   (seen here about once in 500 short jobs: the read gives end-of-file, not EIO, and a read
 *   right after returns the missing line). Those bytes are read before the descriptor closes and
 *   handed to `onTail`, as if they had come as data.
 * - Input still queued when output ends or fails is dropped.
 * `onError` hears read errors other than the end (EOF, EIO); without a listener node-pty would
 * throw them.
 */
export function guardPty (term: IPty, onTail: (data: Buffer) => void, onError: (err: Error) => void): PtyInput {
  const internals = term as unknown as PtyInternals
  const input = new PtyInput(term)
  internals.on('error', (err) => {
    input.close()
    // Why not EIO: it is how a terminal whose programs are all gone ends, not a failure.
    if (err !== undefined && (err as NodeJS.ErrnoException).code !== 'EIO') onError(err)
  })
  internals.on('end', () => {
    input.close()
    if (internals._fd === undefined) return
    const tail = readWhatIsLeft(internals._fd)
    if (tail.length > 0) onTail(tail)
  })
  return input
}
