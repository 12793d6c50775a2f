#!/usr/bin/env node
// The instant ACP agent of the ACP benchmark: raw NDJSON (no SDK to load), answers initialize,
// session/new, session/load and session/prompt at once, with one line of text; exits when its stdin closes.
import { createInterface } from 'node:readline'

const send = (message) => process.stdout.write(JSON.stringify({ jsonrpc: '2.0', ...message }) + '\n')
createInterface({ input: process.stdin }).on('line', (line) => {
  let message
  try { message = JSON.parse(line) } catch { return }
  const { id, method } = message
  if (method === 'initialize') return send({ id, result: { protocolVersion: 1, agentCapabilities: { loadSession: true } } })
  if (method === 'session/new') return send({ id, result: { sessionId: 'bench' } })
  if (method === 'session/load') return send({ id, result: {} })
  if (method === 'session/prompt') {
    send({ method: 'session/update', params: { sessionId: message.params?.sessionId ?? 'bench', update: { sessionUpdate: 'agent_message_chunk', content: { type: 'text', text: 'ok' } } } })
    return send({ id, result: { stopReason: 'end_turn' } })
  }
  if (id !== undefined && method !== undefined) send({ id, error: { code: -32601, message: 'Method not found' } })
})
