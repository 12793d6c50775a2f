import { readSync } from 'node:fs'
import type { IPty } from 'node-pty'

/** What node-pty keeps private on Unix but a guard needs: the master's descriptor and its input queue. */
interface PtyInternals {
  _fd?: number
  _writeStream?: {
    _writeQueue?: Array<{ buffer: Uint8Array, offset: number }>
    dispose?: () => void
  }
  on: (event: 'end' | 'error', listener: (err?: Error) => void) => void
}

const TAIL_CHUNK_BYTES = 64 * 1024
// Why a bound: the end was already seen; a program still writing (a background process holding
// the terminal) must not keep the event loop here.
const TAIL_MAX_CHUNKS = 16

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

/** Input typed into the terminal that node-pty has not written yet (0 when this node-pty does not say). */
// Why the private field: node-pty queues writes without limit and offers no public measure of it.
export function pendingInput (term: IPty): number {
  const queue = (term as unknown as PtyInternals)._writeStream?._writeQueue
  if (!Array.isArray(queue)) return 0
  return queue.reduce((sum, task) => sum + task.buffer.length - task.offset, 0)
}

/**
 * Two guards around node-pty 1.1 (Unix) for the moment a terminal's output ends, and a listener
 * for its read errors:
 * - The end of output can be reported while the kernel still holds the program's last bytes
 *   (seen here about once in 500 short jobs: the read gives end-of-file, not EIO, and a read
 *   right after returns the missing line). Those bytes are read before the descriptor closes and
 *   handed to `onTail`, as if they had come as data.
 * - node-pty goes on writing queued input to the descriptor's number after closing it, where
 *   the next file or socket opened may be (a test saw 1 MiB of typed input land in a file):
 *   the queue is emptied when output ends or fails. A write already handed to the thread pool
 *   at that moment cannot be recalled.
 * `onError` hears read errors other than the end (EOF, EIO); without a listener node-pty would
 * throw them.
 */
export function guardPty (term: IPty, onTail: (data: Buffer) => void, onError: (err: Error) => void): void {
  const internals = term as unknown as PtyInternals
  internals.on('error', (err) => {
    dropPendingInput(internals)
    // Why not EIO: it is how a terminal whose programs are all gone ends, not a failure.
    if (err !== undefined && (err as NodeJS.ErrnoException).code !== 'EIO') onError(err)
  })
  internals.on('end', () => {
    dropPendingInput(internals)
    if (internals._fd === undefined) return
    const tail = readWhatIsLeft(internals._fd)
    if (tail.length > 0) onTail(tail)
  })
}

function dropPendingInput (internals: PtyInternals): void {
  const stream = internals._writeStream
  if (Array.isArray(stream?._writeQueue)) stream._writeQueue.length = 0
  stream?.dispose?.()
}
