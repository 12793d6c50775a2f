import type { SessionUpdate, ToolCallUpdate } from '@agentclientprotocol/sdk'
import type { AcpEvent, ToolCallState } from './types.js'

const DEFAULT_MAX_EVENTS = 2000
// Why: a runaway agent must not grow the server's memory without bound; the job log keeps it all.
const MAX_OUTPUT_TEXT_CHARS = 16 * 1024 * 1024

// Event types for session updates whose devpilot name differs from the ACP one.
const EVENT_TYPE: Partial<Record<string, string>> = {
  agent_message_chunk: 'message',
  agent_thought_chunk: 'thought',
  user_message_chunk: 'user_message',
}

/**
 * Collects what happens in a run: every event (the latest `maxEvents` kept, each passed to
 * `onEvent` at once), the agent's text, and tool calls merged by id.
 */
export class SessionRecorder {
  readonly #events: AcpEvent[] = []
  readonly #maxEvents: number
  readonly #onEvent: ((event: AcpEvent) => void) | undefined
  readonly #toolCalls = new Map<string, ToolCallState>()
  #text = ''

  constructor (onEvent?: (event: AcpEvent) => void, maxEvents = DEFAULT_MAX_EVENTS) {
    this.#onEvent = onEvent
    this.#maxEvents = maxEvents
  }

  get outputText (): string {
    return this.#text
  }

  get events (): AcpEvent[] {
    return [...this.#events]
  }

  /** The tool calls in the order they first appeared, each in its latest state. */
  get toolCalls (): ToolCallState[] {
    return [...this.#toolCalls.values()].map((call) => ({ ...call }))
  }

  /** Records one event and hands it on. */
  record (type: string, data: Record<string, unknown>): void {
    const event: AcpEvent = { type, timestamp: Date.now() / 1000, data }
    this.#events.push(event)
    if (this.#events.length > this.#maxEvents) this.#events.splice(0, this.#events.length - this.#maxEvents)
    this.#onEvent?.(event)
  }

  /** Applies one `session/update`; replayed history (session/load) is recorded as `replay` only. */
  update (update: SessionUpdate | Record<string, unknown>, replay: boolean): void {
    const kind = String(update.sessionUpdate)
    if (replay) return this.record('replay', { ...update })
    if (kind === 'agent_message_chunk') {
      const content = (update as { content?: { type?: string, text?: unknown } }).content
      if (content?.type === 'text' && typeof content.text === 'string' && this.#text.length < MAX_OUTPUT_TEXT_CHARS) {
        this.#text += content.text
      }
      return this.record('message', { content, ...('messageId' in update ? { messageId: update.messageId } : {}) })
    }
    if (kind === 'tool_call' || kind === 'tool_call_update') this.mergeToolCall(update as ToolCallUpdate, true)
    this.record(EVENT_TYPE[kind] ?? kind, { ...update })
  }

  /** Creates or updates a tool call by id (see `mergeToolCall`). */
  mergeToolCall (update: ToolCallUpdate, isUpdate: boolean): ToolCallState {
    return mergeToolCall(this.#toolCalls, update, isUpdate)
  }
}

/**
 * Creates or updates a tool call by id. Updates replace the fields they carry; a call known only
 * from a permission request (`isUpdate` false) is created from it, but such a request never
 * changes a known call.
 */
export function mergeToolCall (calls: Map<string, ToolCallState>, update: ToolCallUpdate, isUpdate: boolean): ToolCallState {
  const { sessionUpdate: _, ...fields } = update as ToolCallUpdate & { sessionUpdate?: string }
  const known = calls.get(update.toolCallId)
  if (known && !isUpdate) return known
  const merged: ToolCallState = { ...known, toolCallId: update.toolCallId }
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value
  }
  calls.set(update.toolCallId, merged)
  return merged
}
