import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { Logger } from '../logger.js'
import { VERSION } from '../version.js'
import { registerAgentTools } from './agent-tools.js'
import type { McpBackend } from './backend.js'
import { registerFileTools } from './file-tools.js'
import { registerJobResources } from './job-resources.js'
import { registerJobTools } from './job-tools.js'
import { registerSessionTools } from './session-tools.js'

const INSTRUCTIONS = 'This server runs commands, coding agents and file operations on a remote machine. ' +
  'Commands are durable jobs: run_command answers within wait_seconds even if the command goes on; poll long ones with job_status/job_output.'

/** One MCP server (one per session: the SDK binds a server to one transport) with every tool and the job output resources. */
export function createMcpServer (backend: McpBackend, log: Logger): McpServer {
  const server = new McpServer({ name: 'agent-runtime', version: VERSION }, { instructions: INSTRUCTIONS })
  const deps = { server, backend, log }
  registerJobTools(deps)
  registerSessionTools(deps)
  registerFileTools(deps)
  registerAgentTools(deps)
  registerJobResources(server, backend)
  return server
}
