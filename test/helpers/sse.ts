import { parseSse } from '../../src/client/sse-parser.js'

/** One parsed event of a job stream. */
export interface StreamEvent { id: string, event: string, data: any }

/** Opens GET /jobs/:id/events and yields parsed events until the server ends the stream. */
export async function * readEvents (url: string, key: string, headers: Record<string, string> = {}, signal?: AbortSignal): AsyncGenerator<StreamEvent> {
  const response = await fetch(url, { headers: { 'x-api-key': key, ...headers }, ...(signal ? { signal } : {}) })
  if (!response.ok) throw new Error(`events answered ${response.status}: ${await response.text()}`)
  for await (const message of parseSse(response.body as unknown as AsyncIterable<Uint8Array>)) {
    yield { id: message.id ?? '', event: message.event, data: JSON.parse(message.data) }
  }
}

/** Collects all events of a stream. */
export async function collectEvents (url: string, key: string, headers: Record<string, string> = {}): Promise<StreamEvent[]> {
  const events: StreamEvent[] = []
  for await (const event of readEvents(url, key, headers)) events.push(event)
  return events
}
