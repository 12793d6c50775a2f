import { once } from 'node:events'
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js'
import { pino } from 'pino'
import type { RuntimeClient } from '../client/index.js'
import { clientBackend } from '../mcp/client-backend.js'
import { createMcpServer } from '../mcp/server.js'
import type { CommandIo } from './io.js'

/**
 * `agent-server mcp --stdio`: the MCP tools over stdin/stdout for a client that launches a local
 * process; every tool calls the remote server through RuntimeClient. Ends when stdin ends.
 */
export async function runMcpStdio (client: RuntimeClient, io: CommandIo): Promise<number> {
  // Why stderr: stdout carries only MCP messages.
  const log = pino({ level: 'warn', base: { component: 'mcp-stdio' } }, pino.destination(2))
  const server = createMcpServer(clientBackend(client), log)
  const transport = new StdioServerTransport(io.stdin, io.stdout)
  const closed = new Promise<void>((resolve) => { transport.onclose = resolve })
  transport.onerror = (err) => log.warn({ err }, 'mcp stdio error')
  await server.connect(transport)
  await Promise.race([once(io.stdin, 'end'), once(io.stdin, 'close'), closed])
  await server.close()
  return 0
}
