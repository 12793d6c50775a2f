import type { JobQuery, RuntimeClient } from '../client/index.js'
import type { JobRead, McpBackend } from './backend.js'

// Why no maxBytes: GET /jobs/:id has no such parameter (the server's inline limit applies); callers cut the text.
const definedOnly = ({ maxBytes: _, ...read }: JobRead): JobQuery =>
  Object.fromEntries(Object.entries(read).filter(([, value]) => value !== undefined)) as JobQuery

/** The tools' backend over HTTP: a remote server through RuntimeClient (`agent-server mcp --stdio`). */
export function clientBackend (client: RuntimeClient): McpBackend {
  return {
    submit: async (request) => (await client.submit(request)).jobId,
    submitSession: async (request) => (await client.submitSession(request)).jobId,
    sessions: () => client.sessions(),
    submitAgent: async (request) => (await client.submitAcp(request)).jobId,
    job: (jobId, read = {}) => client.get(jobId, definedOnly(read)),
    waitFinished: async (jobId, timeoutMs, signal) => {
      try {
        await client.wait(jobId, { timeoutSec: timeoutMs / 1000, signal })
      } catch (err) {
        if (!signal.aborted) throw err
      }
    },
    kill: (jobId, signal) => client.kill(jobId, signal),
    writeStdin: async (jobId, data, eof) => ({ written: (await client.writeStdin(jobId, data, eof)).written }),
    readFile: async (path, maxBytes) => {
      const stat = await client.files.stat(path)
      if (stat.size === 0 || maxBytes === 0) return { path: stat.path, size: stat.size, bytes: new Uint8Array() }
      const download = await client.files.download(path, { range: { start: 0, end: maxBytes - 1 } })
      return { path: stat.path, size: stat.size, bytes: new Uint8Array(await new Response(download.body).arrayBuffer()) }
    },
    openFile: async (path) => {
      const stat = await client.files.stat(path)
      // Why no Range: a line range's byte offset is unknown; the body is read up to the range's end, then cancelled.
      const download = await client.files.download(path)
      return { path: stat.path, size: stat.size, chunks: download.body }
    },
    writeFile: async (path, content, mkdir) => {
      const { created } = await client.files.upload(path, content, { mkdir })
      return { path: (await client.files.stat(path)).path, created }
    },
    listDirectory: (path, recursive, limit) => client.files.list(path, { recursive, limit }),
    resolvePath: async (path) => (await client.files.stat(path)).path,
  }
}
