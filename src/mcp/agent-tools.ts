import { z } from 'zod'
import type { Job } from '../client/index.js'
import { capForModel } from './render.js'
import { awaitStartedJob, guarded, toolResult, waitWithProgress, type ToolDeps } from './tool-kit.js'

const DEFAULT_WAIT_SEC = 30
const MAX_WAIT_SEC = 600
const RECENT_EVENTS = 20
const POLICIES = ['deny', 'read-only', 'workdir', 'allow-all'] as const

function agentSummary (job: Job): Record<string, unknown> {
  const text = capForModel(job.stdout ?? '', job.stdoutBytes)
  return {
    jobId: job.jobId,
    status: job.status,
    running: job.status === 'pending' || job.status === 'running',
    acpSessionId: job.acpSessionId ?? null,
    stopReason: job.stopReason ?? null,
    ...(job.acpError ? { acpError: job.acpError } : {}),
    ...(job.error ? { error: job.error } : {}),
    output: text.text,
    outputOmittedBytes: text.omittedBytes,
    recentEvents: (job.events ?? []).slice(-RECENT_EVENTS).map((e) => e.type),
  }
}

const renderAgent = (s: Record<string, unknown>): string =>
  `agent job ${s.jobId as string} ${s.status as string}${s.stopReason ? ` (stop reason: ${s.stopReason as string})` : ''}` +
  `${s.running === true ? '; poll it with agent_status' : ''}\n${s.output as string}`

/** run_agent and agent_status: a coding agent over ACP as a durable job. */
export function registerAgentTools ({ server, backend, log }: ToolDeps): void {
  server.registerTool('run_agent', {
    title: 'Run a coding agent',
    description: 'Starts a coding agent (an ACP agent, by default GitHub Copilot) on the machine with a prompt, as a durable job, ' +
      'and waits up to wait_seconds. Returns the job id, its state and the agent\'s text so far; poll it with agent_status, stop it with job_kill. ' +
      'Cancelling this call ends the agent job unless detach is set. ' +
      'permission_policy decides what the agent may do without asking: deny, read-only, workdir (writes inside workdir only) or allow-all.',
    inputSchema: {
      prompt: z.string().min(1).describe('What the agent should do.'),
      agent: z.string().optional().describe('An agent by name (copilot, claude, gemini, codex, opencode, qwen) or a full ACP command line; default copilot.'),
      workdir: z.string().optional().describe('The directory the agent works in.'),
      permission_policy: z.enum(POLICIES).optional().describe('What the agent may do unasked (default: the server\'s).'),
      model: z.string().optional().describe('A model name the agent understands.'),
      timeout: z.number().min(0).optional().describe('Seconds after which the agent is stopped; 0 = no limit.'),
      wait_seconds: z.number().min(0).max(MAX_WAIT_SEC).optional().describe(`How long to wait before answering (default ${DEFAULT_WAIT_SEC}).`),
      detach: z.boolean().optional().describe('If true, cancelling this call leaves the agent running; by default a cancelled call ends the agent job.'),
    },
    annotations: { destructiveHint: true, openWorldHint: true },
  }, async (args, extra) => guarded(log, 'run_agent', async () => {
    const id = await backend.submitAgent({
      prompt: args.prompt,
      ...(args.agent !== undefined ? { agent: args.agent } : {}),
      ...(args.workdir !== undefined ? { workdir: args.workdir } : {}),
      ...(args.permission_policy !== undefined ? { permissionPolicy: args.permission_policy } : {}),
      ...(args.model !== undefined ? { model: args.model } : {}),
      ...(args.timeout !== undefined ? { timeout: args.timeout } : {}),
    })
    const summary = agentSummary(await awaitStartedJob({ backend, log }, id, (args.wait_seconds ?? DEFAULT_WAIT_SEC) * 1000, args.detach === true, extra))
    return toolResult(summary, renderAgent(summary))
  }))

  server.registerTool('agent_status', {
    title: 'Agent job status',
    description: 'The state of an agent job started by run_agent: status, stop reason, the agent\'s text so far and its latest event types. ' +
      'With wait_seconds, first waits up to that long for it to finish.',
    inputSchema: {
      job_id: z.string().min(1).describe('The job id run_agent returned.'),
      wait_seconds: z.number().min(0).max(MAX_WAIT_SEC).optional().describe('How long to wait for the agent to finish first (default 0).'),
    },
    annotations: { readOnlyHint: true },
  }, async (args, extra) => guarded(log, 'agent_status', async () => {
    const summary = agentSummary(await waitWithProgress(backend, args.job_id, (args.wait_seconds ?? 0) * 1000, extra))
    return toolResult(summary, renderAgent(summary))
  }))
}
