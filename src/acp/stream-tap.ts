import type { AnyMessage, Stream } from '@agentclientprotocol/sdk'

/** The `_meta` key the tap sets on `session/update` params that belong to a session/load replay. */
export const REPLAY_META_KEY = 'agent-runtime/replay'

// The session/update variants of ACP v1 that the SDK validates and hands to our handler.
const KNOWN_UPDATES: ReadonlySet<string> = new Set([
  'user_message_chunk', 'agent_message_chunk', 'agent_thought_chunk', 'tool_call', 'tool_call_update', 'plan',
  'available_commands_update', 'current_mode_update', 'config_option_update', 'session_info_update', 'usage_update',
  'notice', 'compaction_update', 'compaction_summary_chunk',
])

/** Who sent a message on the connection. */
export type MessageSender = 'agent' | 'client'

type Params = Record<string, unknown> & { update?: Record<string, unknown>, _meta?: Record<string, unknown> | null }

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Watches the agent's messages before the SDK sees them, in the exact order they arrived:
 * any message counts as activity; a `session/update` of a variant this SDK does not know is
 * taken out and reported (the SDK would drop it with a console error); while a session/load is
 * outstanding, updates are marked as replay — up to the first response, which is the load's.
 */
export class StreamTap {
  #loading = false
  readonly #onActivity: () => void
  readonly #onUnknownUpdate: (params: Params) => void
  #onMessage: ((from: MessageSender, message: AnyMessage) => void) | undefined

  constructor (onActivity: () => void, onUnknownUpdate: (params: Params) => void) {
    this.#onActivity = onActivity
    this.#onUnknownUpdate = onUnknownUpdate
  }

  /** Call before `wrap`: `onMessage` then sees every message in both directions, as sent (e.g. for a transcript). */
  observe (onMessage: (from: MessageSender, message: AnyMessage) => void): void {
    this.#onMessage = onMessage
  }

  /** Call right before sending session/load; the load's response ends the replay. */
  startReplay (): void {
    this.#loading = true
  }

  /** The same stream with the agent's messages passing through this tap. */
  wrap (stream: Stream): Stream {
    const readable = stream.readable.pipeThrough(new TransformStream<AnyMessage, AnyMessage>({
      transform: (message, controller) => {
        this.#onActivity()
        this.#onMessage?.('agent', message)
        if (!isObject(message)) return controller.enqueue(message)
        if (!('method' in message)) {
          if ('id' in message) this.#loading = false
          return controller.enqueue(message)
        }
        if (message.method !== 'session/update' || 'id' in message || !isObject(message.params)) return controller.enqueue(message)
        const params = message.params as Params
        if (!isObject(params.update) || !KNOWN_UPDATES.has(String(params.update.sessionUpdate))) {
          return this.#onUnknownUpdate(params)
        }
        if (this.#loading) {
          return controller.enqueue({ ...message, params: { ...params, _meta: { ...params._meta, [REPLAY_META_KEY]: true } } })
        }
        controller.enqueue(message)
      },
    }))
    return { writable: this.#tapWritable(stream.writable), readable }
  }

  // Our messages to the agent, seen by `onMessage` on their way out.
  #tapWritable (writable: WritableStream<AnyMessage>): WritableStream<AnyMessage> {
    const onMessage = this.#onMessage
    if (!onMessage) return writable
    const tap = new TransformStream<AnyMessage, AnyMessage>({
      transform: (message, controller) => {
        onMessage('client', message)
        controller.enqueue(message)
      },
    })
    // Why: a failed pipe already fails the writes that the SDK awaits; nothing more to report here.
    tap.readable.pipeTo(writable).catch(() => {})
    return tap.writable
  }
}
