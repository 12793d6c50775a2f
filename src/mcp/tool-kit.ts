import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js'
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js'
import type { Job } from '../client/index.js'
import type { Logger } from '../logger.js'
import type { McpBackend } from './backend.js'

/** The context of one tool call: cancellation signal, progress token, notification sender. */
export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>

/** What every group of tools is registered with. */
export interface ToolDeps {
  server: McpServer
  backend: McpBackend
  log: Logger
}

/** A tool's answer: the structured result and its text rendering. */
export const toolResult = (structured: Record<string, unknown>, text: string): CallToolResult =>
  ({ structuredContent: structured, content: [{ type: 'text', text }] })

/** A failure as an MCP tool error (the model reads it), never a transport failure. */
export function toolError (err: unknown): CallToolResult {
  const e = err as { code?: unknown, error?: unknown, message?: unknown }
  const message = typeof e.error === 'string' ? e.error : typeof e.message === 'string' ? e.message : String(err)
  const code = typeof e.code === 'string' ? e.code : 'TOOL_FAILED'
  return { isError: true, content: [{ type: 'text', text: `${code}: ${message}` }] }
}

/** Runs a tool body and turns any throw into a tool error. */
export async function guarded (log: Logger, tool: string, work: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await work()
  } catch (err) {
    log.debug({ err, tool }, 'mcp tool failed')
    return toolError(err)
  }
}

const PROGRESS_EVERY_MS = 5000

/**
 * Waits until the job has finished or `waitMs` passed, sending a progress notification every few
 * seconds when the client asked for progress; resolves early when the call is cancelled. Resolves
 * the job as read last (its whole view: one read serves the tool's answer).
 */
export async function waitWithProgress (backend: McpBackend, jobId: string, waitMs: number, extra: ToolExtra): Promise<Job> {
  const token = extra._meta?.progressToken
  const deadline = Date.now() + waitMs
  const startedAt = Date.now()
  for (;;) {
    const left = deadline - Date.now()
    if (left > 0 && !extra.signal.aborted) {
      await backend.waitFinished(jobId, token === undefined ? left : Math.min(left, PROGRESS_EVERY_MS), extra.signal)
    }
    const job = await backend.job(jobId)
    if (job.status !== 'pending' && job.status !== 'running') return job
    if (deadline - Date.now() <= 0 || extra.signal.aborted) return job
    if (token !== undefined) {
      await extra.sendNotification({
        method: 'notifications/progress',
        params: { progressToken: token, progress: Math.round((Date.now() - startedAt) / 1000), total: Math.round(waitMs / 1000), message: `job ${jobId} ${job.status}` },
      }).catch(() => { /* the client went away; the wait ends with the call */ })
    }
  }
}

/**
 * Waits for a job a tool has just started, as waitWithProgress (resolving the job as read last); a
 * cancelled call kills the job unless `detach` (the job is durable either way).
 */
export async function awaitStartedJob (deps: Pick<ToolDeps, 'backend' | 'log'>, jobId: string, waitMs: number, detach: boolean, extra: ToolExtra): Promise<Job> {
  const onCancel = (): void => {
    if (detach) return
    deps.backend.kill(jobId).catch((err: unknown) => deps.log.debug({ err, jobId }, 'mcp cancel: kill failed'))
  }
  extra.signal.addEventListener('abort', onCancel, { once: true })
  try {
    return await waitWithProgress(deps.backend, jobId, waitMs, extra)
  } finally {
    extra.signal.removeEventListener('abort', onCancel)
  }
}
