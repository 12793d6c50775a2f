import type { ServerResponse } from 'node:http'
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import type { JobEvent, OutputEncoding } from './streams.js'

export const KEEP_ALIVE_MS = 15_000

/**
 * An event's `data` as JSON. Why by hand for output: these are the big ones, and base64 text
 * needs no escaping, so it is not scanned again.
 */
export function eventJson (event: JobEvent, encoding: OutputEncoding): string {
  if (event.event !== 'output') return JSON.stringify(event.data)
  const { stream, offset, data } = event.data
  const text = encoding === 'base64' ? `"${data}"` : JSON.stringify(data)
  return `{"stream":"${stream}","offset":${offset},"data":${text}}`
}

/** One event in Server-Sent Events framing, as bytes (JSON data never contains a raw newline). */
export function formatSse (event: JobEvent, encoding: OutputEncoding): Buffer {
  return Buffer.from(`id: ${event.id}\nevent: ${event.event}\ndata: ${eventJson(event, encoding)}\n\n`)
}

// Why: waiting for 'drain' is the back-pressure that keeps a slow client from growing our memory.
function write (res: ServerResponse, bytes: Buffer): Promise<void> | undefined {
  if (res.write(bytes)) return undefined
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done)
      res.off('close', done)
      resolve()
    }
    res.on('drain', done)
    res.on('close', done)
  })
}

/**
 * Sends events as an SSE response until they end or the client goes away, with a keep-alive
 * comment whenever nothing was sent for 15 s. `headers` are added to the response head.
 */
export async function sendSse (res: ServerResponse, headers: Record<string, string | number | string[]>, events: AsyncIterable<JobEvent>, encoding: OutputEncoding, signal: AbortSignal): Promise<void> {
  res.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  })
  res.flushHeaders()
  let lastWrite = Date.now()
  const keepAlive = setInterval(() => {
    if (Date.now() - lastWrite >= KEEP_ALIVE_MS && !res.writableEnded) {
      res.write(': keep-alive\n\n')
      lastWrite = Date.now()
    }
  }, KEEP_ALIVE_MS / 3)
  try {
    for await (const event of events) {
      if (signal.aborted || res.destroyed) break
      await write(res, formatSse(event, encoding))
      lastWrite = Date.now()
      // Why: a client that keeps up never makes write() wait; without this one stream would starve the server.
      await yieldToLoop()
    }
  } finally {
    clearInterval(keepAlive)
    if (!res.writableEnded) res.end()
  }
}
