import { once } from 'node:events'
import { request as httpRequest } from 'node:http'
import { connect, type Socket } from 'node:net'
import { performance } from 'node:perf_hooks'

/** Wall-clock milliseconds with a fractional part; comparable between processes on one machine. */
export const wallClockMs = (): number => performance.timeOrigin + performance.now()

// Bytes of each line copied for the caller: enough for field names, ids and the JSON head of an output event.
const HEAD_BYTES = 256
const NEWLINE = 0x0a

/** One SSE event as the parser reports it. Large data is counted, not kept (unless asked). */
export interface SseEvent {
  id: string
  event: string
  /** The first bytes (at most 256) of the data field as text; all of it when `dataBytes` is that small. */
  dataHead: string
  /** Bytes in the data field. */
  dataBytes: number
  /** The whole data field; only when the parser keeps data, else null. */
  data: string | null
  /** Wall-clock ms at which the chunk that completed this event arrived. */
  receivedAt: number
}

/**
 * A streaming Server-Sent Events parser over raw bytes. It finds line ends with Buffer#indexOf,
 * copies at most the first 256 bytes of each line and never holds a whole line unless `keepData`
 * is set, so a 1 GiB stream costs one pass over the bytes and no body accumulation. The server
 * frames with `\n` only, so `\r\n` is not handled.
 */
export class SseParser {
  readonly #onEvent: (event: SseEvent) => void
  readonly #keepData: boolean
  readonly #head = Buffer.allocUnsafe(HEAD_BYTES)
  #headLength = 0
  #lineLength = 0
  #lineParts: Buffer[] = []
  #id = ''
  #event = ''
  #dataHead = ''
  #dataBytes = 0
  #data: string | null = null
  #hasData = false
  #receivedAt = 0
  /** Every byte pushed so far (the SSE framing and JSON included). */
  wireBytes = 0

  constructor (onEvent: (event: SseEvent) => void, keepData = false) {
    this.#onEvent = onEvent
    this.#keepData = keepData
  }

  /** Feeds the next chunk of the response body; `receivedAt` is stamped on the events it completes. */
  push (chunk: Buffer, receivedAt: number): void {
    this.wireBytes += chunk.length
    this.#receivedAt = receivedAt
    let start = 0
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start)
      const end = newline === -1 ? chunk.length : newline
      if (end > start) this.#append(chunk, start, end)
      if (newline === -1) return
      this.#endLine()
      start = newline + 1
    }
  }

  #append (chunk: Buffer, start: number, end: number): void {
    if (this.#headLength < HEAD_BYTES) {
      this.#headLength += chunk.copy(this.#head, this.#headLength, start, Math.min(end, start + HEAD_BYTES - this.#headLength))
    }
    if (this.#keepData) this.#lineParts.push(chunk.subarray(start, end))
    this.#lineLength += end - start
  }

  #endLine (): void {
    const length = this.#lineLength
    const head = this.#head.toString('utf8', 0, this.#headLength)
    const parts = this.#lineParts
    this.#headLength = 0
    this.#lineLength = 0
    this.#lineParts = []
    if (length === 0) {
      this.#dispatch()
      return
    }
    const colon = head.indexOf(':')
    if (colon === 0) return // a comment, e.g. the keep-alive
    const field = colon === -1 ? head : head.slice(0, colon)
    // Field names and ': ' are ASCII, so string and byte positions agree up to the value.
    const valueStart = colon === -1 ? length : colon + (head[colon + 1] === ' ' ? 2 : 1)
    const value = head.slice(valueStart)
    if (field === 'id') this.#id = value
    else if (field === 'event') this.#event = value
    else if (field === 'data') {
      if (this.#hasData) this.#dataBytes += 1 // the '\n' that joins data lines
      this.#dataBytes += length - valueStart
      if (!this.#hasData) this.#dataHead = value
      if (this.#keepData) {
        const text = Buffer.concat(parts).toString('utf8', valueStart)
        this.#data = this.#data === null ? text : `${this.#data}\n${text}`
      }
      this.#hasData = true
    }
  }

  #dispatch (): void {
    if (!this.#hasData && this.#event === '') return
    const event: SseEvent = {
      id: this.#id,
      event: this.#event === '' ? 'message' : this.#event,
      dataHead: this.#dataHead,
      dataBytes: this.#dataBytes,
      data: this.#data,
      receivedAt: this.#receivedAt,
    }
    this.#event = ''
    this.#dataHead = ''
    this.#dataBytes = 0
    this.#data = null
    this.#hasData = false
    this.#onEvent(event)
  }
}

/** What one SSE response took: wall times in performance.now() ms and the bytes on the wire. */
export interface StreamSummary {
  startedAt: number
  headersAt: number
  endedAt: number
  wireBytes: number
}

export interface StreamOptions {
  port: number
  key: string
  path: string
  onEvent: (event: SseEvent) => void
  keepData?: boolean
  /** Called once the response headers have arrived (the stream is open). */
  onOpen?: () => void
}

/**
 * GETs an SSE path on its own connection and feeds the body through SseParser until the server
 * ends the response. A throw from `onEvent` aborts the request and rejects.
 */
export function streamEvents (options: StreamOptions): Promise<StreamSummary> {
  const startedAt = performance.now()
  return new Promise((resolve, reject) => {
    const parser = new SseParser(options.onEvent, options.keepData ?? false)
    const req = httpRequest({
      host: '127.0.0.1',
      port: options.port,
      path: options.path,
      headers: { 'x-api-key': options.key, accept: 'text/event-stream' },
      agent: false,
    }, (res) => {
      const headersAt = performance.now()
      if (res.statusCode !== 200) {
        res.resume()
        reject(new Error(`GET ${options.path}: HTTP ${res.statusCode ?? 0}`))
        return
      }
      options.onOpen?.()
      res.on('data', (chunk: Buffer) => {
        try {
          parser.push(chunk, wallClockMs())
        } catch (err) {
          req.destroy()
          reject(err)
        }
      })
      res.on('end', () => resolve({ startedAt, headersAt, endedAt: performance.now(), wireBytes: parser.wireBytes }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

/**
 * Opens a raw TCP connection, sends the SSE GET and never reads the answer: Node stops reading
 * once its small socket buffer is full, then the kernel buffers fill and the server sees
 * back-pressure. Destroy the socket to end it.
 */
export async function openStalledStream (port: number, key: string, path: string): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port })
  socket.on('error', () => { /* the benchmark destroys it; a reset then is expected */ })
  await once(socket, 'connect')
  socket.pause()
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-API-Key: ${key}\r\nAccept: text/event-stream\r\n\r\n`)
  return socket
}
