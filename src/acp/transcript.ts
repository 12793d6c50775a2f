import type { AnyMessage } from '@agentclientprotocol/sdk'
import type { MessageSender } from './stream-tap.js'

/** One line of a run's transcript (`acp.ndjson`): when, who sent it, and the JSON-RPC message as sent. */
export function transcriptLine (from: MessageSender, message: AnyMessage, at = Date.now() / 1000): string {
  return JSON.stringify({ at, from, message }) + '\n'
}
