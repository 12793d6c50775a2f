import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { Logger } from '../logger.js'
import { VERSION } from '../version.js'
import { registerAgentTools } from './agent-tools.js'
import type { McpBackend } from './backend.js'
import { registerFileTools } from './file-tools.js'
import { registerJobTools } from './job-tools.js'

const INSTRUCTIONS = 'This server runs commands, coding agents and file operations on a remote machine. ' +
  'Commands are durable jobs: run_command answers within wait_seconds even if the command goes on; poll long ones with job_status/job_output.'

/** One MCP server (one per session: the SDK binds a server to one transport) with every tool and the job output resources. */
export function createMcpServer (backend: McpBackend, log: Logger): McpServer {
  const server = new McpServer({ name: 'agent-runtime', version: VERSION }, { instructions: INSTRUCTIONS })
  const deps = { server, backend, log }
  registerJobTools(deps)
  registerFileTools(deps)
  registerAgentTools(deps)
  for (const stream of ['stdout', 'stderr'] as const) {
    server.registerResource(`job-${stream}`, new ResourceTemplate(`job://{jobId}/${stream}`, { list: undefined }), {
      title: `Job ${stream}`,
      description: `The ${stream} of a job (up to the server's inline output limit, from the start).`,
      mimeType: 'text/plain',
    }, async (uri, variables) => {
      const jobId = String(variables.jobId)
      const job = await backend.job(jobId, stream === 'stdout' ? { stdoutOffset: 0 } : { stderrOffset: 0 })
      return { contents: [{ uri: uri.href, mimeType: 'text/plain', text: job[stream] ?? '' }] }
    })
  }
  return server
}
