import { setTimeout as sleep } from 'node:timers/promises'
import { isRetryableStatus, queryString, RuntimeError, type RequestOptions } from './http.js'
import { parseSse } from './sse-parser.js'
import type { JobEvent } from './types.js'

export interface EventsOptions {
  /** Resume after this event id. */
  since?: string
  encoding?: 'utf8' | 'base64'
  signal?: AbortSignal
  /** Reconnections in a row without receiving anything before giving up (default 5). */
  maxRetries?: number
}

/** GETs `path` from the server (the client's fetch, with its key). */
type Get = (path: string, request: RequestOptions) => Promise<Response>

/**
 * A job's events (GET /jobs/:id/events), live, until its `exit` event. A dropped connection is
 * resumed from the last event received, so no byte is lost or repeated; gives up after
 * `maxRetries` failures in a row, waiting `backoff(failures)` ms between tries.
 */
export async function * followJobEvents (get: Get, jobId: string, options: EventsOptions, backoff: (failures: number) => number): AsyncGenerator<JobEvent> {
  let since = options.since
  let failures = 0
  const maxRetries = options.maxRetries ?? 5
  for (;;) {
    try {
      const headers: Record<string, string> = since ? { 'last-event-id': since } : {}
      const response = await get(`/jobs/${encodeURIComponent(jobId)}/events${queryString({ encoding: options.encoding })}`, { headers, signal: options.signal })
      for await (const message of parseSse(response.body as unknown as AsyncIterable<Uint8Array>)) {
        const event = { id: message.id ?? '', event: message.event, data: JSON.parse(message.data) } as JobEvent
        since = event.id
        failures = 0
        yield event
        if (event.event === 'exit') return
      }
      throw new RuntimeError(0, 'STREAM_ENDED', 'the event stream ended before the job did')
    } catch (err) {
      if (options.signal?.aborted || (err instanceof RuntimeError && !isRetryableStatus(err.status))) throw err
      if (++failures > maxRetries) throw err
      await sleep(backoff(failures), undefined, { signal: options.signal })
    }
  }
}
