import { once } from 'node:events'
import type { ServerResponse } from 'node:http'
import type { JobEvent } from './events.js'

export const KEEP_ALIVE_MS = 15_000

/** One event in Server-Sent Events framing (JSON data never contains a raw newline). */
export function formatSse (event: JobEvent): string {
  return `id: ${event.id}\nevent: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`
}

async function write (res: ServerResponse, text: string): Promise<void> {
  // Why: waiting for 'drain' is the back-pressure that keeps a slow client from growing our memory.
  if (!res.write(text)) await Promise.race([once(res, 'drain'), once(res, 'close')])
}

/**
 * Sends events as an SSE response until they end or the client goes away, with a keep-alive
 * comment whenever nothing was sent for 15 s. `headers` are added to the response head.
 */
export async function sendSse (res: ServerResponse, headers: Record<string, string | number | string[]>, events: AsyncIterable<JobEvent>, signal: AbortSignal): Promise<void> {
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
      await write(res, formatSse(event))
      lastWrite = Date.now()
    }
  } finally {
    clearInterval(keepAlive)
    if (!res.writableEnded) res.end()
  }
}
