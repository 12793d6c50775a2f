import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { completeLength } from '../lib/utf8.js'
import type { McpBackend } from './backend.js'

// The most bytes one job:// resource read returns; the rest is read with job_output offsets.
export const MAX_RESOURCE_BYTES = 1024 * 1024

/** The first `maxBytes` bytes of `text`, cut at a character boundary, and their length in bytes. */
function firstBytes (text: string, maxBytes: number): { text: string, bytes: number } {
  const raw = Buffer.from(text)
  if (raw.length <= maxBytes) return { text, bytes: raw.length }
  const keep = completeLength(raw.subarray(0, maxBytes))
  return { text: raw.subarray(0, keep).toString(), bytes: keep }
}

/** The resource templates job://{jobId}/stdout and job://{jobId}/stderr: a job's output from its start, bounded. */
export function registerJobResources (server: McpServer, backend: McpBackend): void {
  for (const stream of ['stdout', 'stderr'] as const) {
    server.registerResource(`job-${stream}`, new ResourceTemplate(`job://{jobId}/${stream}`, { list: undefined }), {
      title: `Job ${stream}`,
      description: `The ${stream} of a job from its start, at most ${MAX_RESOURCE_BYTES} bytes per read. When there is more, the text ends with a line ` +
        `saying how many bytes follow and the offset to read them from with the job_output tool (${stream}_offset).`,
      mimeType: 'text/plain',
    }, async (uri, variables) => {
      const job = await backend.job(String(variables.jobId), { [`${stream}Offset`]: 0, maxBytes: MAX_RESOURCE_BYTES })
      const total = job[`${stream}Bytes`] ?? 0
      const shown = firstBytes(job[stream] ?? '', MAX_RESOURCE_BYTES)
      const more = total - shown.bytes
      const text = more > 0
        ? `${shown.text}\n[… ${more} more bytes: read them with job_output ${stream}_offset=${shown.bytes} …]`
        : shown.text
      return {
        contents: [{
          uri: uri.href,
          mimeType: 'text/plain',
          text,
          _meta: { totalBytes: total, truncated: more > 0, nextOffset: shown.bytes },
        }],
      }
    })
  }
}
