import { closeSync } from 'node:fs'
import { Socket } from 'node:net'

/** What the server does with a job's stdin (a child's pipe, a `Writable`, or the job's FIFO). */
export interface JobStdin {
  readonly destroyed: boolean
  readonly writableEnded: boolean
  readonly writableLength: number
  write: (data: string | Buffer) => boolean
  end: () => void
  destroy: () => void
}

/**
 * The server's end of a job's stdin FIFO: held open from the start (so the job never reads an
 * early EOF), wrapped in a socket only when something is written or the job's stdin is closed.
 */
// Why lazily: most jobs never get stdin, and a socket per job was ~40 µs of the server's time.
export class FifoWriter implements JobStdin {
  #fd: number | null
  #socket: Socket | undefined
  #ended = false
  #destroyed = false

  constructor (fd: number) {
    this.#fd = fd
  }

  get destroyed (): boolean {
    return this.#socket?.destroyed ?? this.#destroyed
  }

  get writableEnded (): boolean {
    return this.#socket?.writableEnded ?? this.#ended
  }

  get writableLength (): number {
    return this.#socket?.writableLength ?? 0
  }

  write (data: string | Buffer): boolean {
    return this.#open().write(data)
  }

  /** Closes the job's stdin once what was written has been read into the FIFO. */
  end (): void {
    this.#ended = true
    if (this.#socket) this.#socket.end()
    else this.#close()
  }

  destroy (): void {
    this.#destroyed = true
    this.#ended = true
    if (this.#socket) this.#socket.destroy()
    else this.#close()
  }

  #open (): Socket {
    if (this.#socket) return this.#socket
    if (this.#fd === null) throw new Error('the job\'s stdin is closed')
    const socket = new Socket({ fd: this.#fd, readable: false, writable: true })
    this.#fd = null
    socket.on('error', () => { /* Why: EPIPE when the job stops reading; the write call reports it. */ })
    this.#socket = socket
    return socket
  }

  #close (): void {
    if (this.#fd === null) return
    try { closeSync(this.#fd) } catch { /* closed already */ }
    this.#fd = null
  }
}
