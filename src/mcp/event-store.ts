import type { EventId, EventStore, StreamId } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js'

// The most messages one session keeps for replay; older ones cannot be resumed from.
export const MAX_REPLAY_EVENTS = 1000

/**
 * The SSE events of one MCP session, kept in memory so a client that lost its stream resumes
 * with Last-Event-ID (the SDK replays what came after). Bounded: the oldest events are dropped.
 */
export class SessionEventStore implements EventStore {
  readonly #events: Array<{ id: EventId, streamId: StreamId, message: JSONRPCMessage }> = []
  #next = 0

  async storeEvent (streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    const id = `${++this.#next}`
    this.#events.push({ id, streamId, message })
    if (this.#events.length > MAX_REPLAY_EVENTS) this.#events.shift()
    return id
  }

  async getStreamIdForEventId (eventId: EventId): Promise<StreamId | undefined> {
    return this.#events.find((e) => e.id === eventId)?.streamId
  }

  async replayEventsAfter (lastEventId: EventId, { send }: { send: (eventId: EventId, message: JSONRPCMessage) => Promise<void> }): Promise<StreamId> {
    const at = this.#events.findIndex((e) => e.id === lastEventId)
    if (at === -1) return ''
    const streamId = (this.#events[at] as { streamId: StreamId }).streamId
    for (const event of this.#events.slice(at + 1)) {
      if (event.streamId === streamId) await send(event.id, event.message)
    }
    return streamId
  }
}
