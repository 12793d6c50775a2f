import { z } from 'zod'
import { awaitStartedJob, guarded, toolResult, waitWithProgress, type ToolDeps } from './tool-kit.js'
import { capForModel, jobSummary, renderJob } from './render.js'

// How long a tool waits for a job by default, and at most (seconds).
export const DEFAULT_WAIT_SEC = 30
export const MAX_WAIT_SEC = 600

const jobId = z.string().min(1).describe('The job id that run_command, session_run or run_agent returned.')
/** The wait_seconds input of a waiting tool. */
export const waitSeconds = (what: string, byDefault: number): z.ZodOptional<z.ZodNumber> => z.number().min(0).max(MAX_WAIT_SEC).optional()
  .describe(`How long to wait for ${what} before answering, in seconds (default ${byDefault}, max ${MAX_WAIT_SEC}).`)

/** run_command, job_status, job_output, job_kill, job_stdin: durable jobs for a model. */
export function registerJobTools ({ server, backend, log }: ToolDeps): void {
  server.registerTool('run_command', {
    title: 'Run a shell command',
    description: 'Runs a shell command (/bin/sh -c) on the machine as a durable job and waits up to wait_seconds for it to finish. ' +
      'If it finishes, returns its exit code and output. If it is still running, returns its job id and the output so far: ' +
      'the job keeps running (it survives this call and the connection); check it with job_status or job_output, send input with job_stdin, stop it with job_kill. ' +
      'Long output is cut to its head and tail with the number of omitted bytes; read the rest with job_output offsets.',
    inputSchema: {
      command: z.string().min(1).describe('The shell command line, e.g. "npm test 2>&1".'),
      workdir: z.string().optional().describe('Working directory (absolute, or relative to the server\'s directory). Default: the server\'s directory.'),
      env: z.record(z.string(), z.string()).optional().describe('Extra environment variables for the command.'),
      timeout: z.number().min(0).optional().describe('Seconds after which the job is killed and ends as "timeout"; 0 = no limit. Default 300.'),
      wait_seconds: waitSeconds('the command', DEFAULT_WAIT_SEC),
      detach: z.boolean().optional().describe('If true, cancelling this call leaves the job running; by default a cancelled call kills the job.'),
    },
    annotations: { destructiveHint: true, openWorldHint: true },
  }, async (args, extra) => guarded(log, 'run_command', async () => {
    const id = await backend.submit({
      command: args.command,
      ...(args.workdir !== undefined ? { workdir: args.workdir } : {}),
      ...(args.env !== undefined ? { env: args.env } : {}),
      ...(args.timeout !== undefined ? { timeout: args.timeout } : {}),
    })
    const summary = jobSummary(await awaitStartedJob({ backend, log }, id, (args.wait_seconds ?? DEFAULT_WAIT_SEC) * 1000, args.detach === true, extra))
    return toolResult(summary, renderJob(summary))
  }))

  server.registerTool('job_status', {
    title: 'Job status',
    description: 'The state of a job (pending, running, completed, failed, timeout, cancelled), its exit code and its output so far (head and tail). ' +
      'With wait_seconds, first waits up to that long for the job to finish.',
    inputSchema: { job_id: jobId, wait_seconds: waitSeconds('the job', 0) },
    annotations: { readOnlyHint: true },
  }, async (args, extra) => guarded(log, 'job_status', async () => {
    const summary = jobSummary(await waitWithProgress(backend, args.job_id, (args.wait_seconds ?? 0) * 1000, extra))
    return toolResult(summary, renderJob(summary))
  }))

  server.registerTool('job_output', {
    title: 'Job output',
    description: 'Reads a job\'s output. Give stdout_offset/stderr_offset (bytes) to read what came after an earlier read; ' +
      'the result holds the next offsets to pass. Or give tail_lines for the last lines only. Without either: the output so far.',
    inputSchema: {
      job_id: jobId,
      stdout_offset: z.number().int().min(0).optional().describe('Byte offset in stdout to read from.'),
      stderr_offset: z.number().int().min(0).optional().describe('Byte offset in stderr to read from.'),
      tail_lines: z.number().int().min(1).optional().describe('Only the last N lines of each stream.'),
    },
    annotations: { readOnlyHint: true },
  }, async (args) => guarded(log, 'job_output', async () => {
    const job = await backend.job(args.job_id, {
      tailLines: args.tail_lines,
      stdoutOffset: args.stdout_offset,
      stderrOffset: args.stderr_offset,
    })
    const withOffsets = args.stdout_offset !== undefined || args.stderr_offset !== undefined
    const stdout = capForModel(job.stdout ?? '')
    const stderr = capForModel(job.stderr ?? '')
    const result = {
      jobId: job.jobId,
      status: job.status,
      stdout: stdout.text,
      stderr: stderr.text,
      stdoutBytes: job.stdoutBytes ?? 0,
      stderrBytes: job.stderrBytes ?? 0,
      stdoutOmittedBytes: stdout.omittedBytes,
      stderrOmittedBytes: stderr.omittedBytes,
      ...(withOffsets ? { nextStdoutOffset: job.stdoutOffset ?? args.stdout_offset ?? 0, nextStderrOffset: job.stderrOffset ?? args.stderr_offset ?? 0 } : {}),
    }
    const text = [`job ${job.jobId} ${job.status}`, result.stdout && `stdout:\n${result.stdout}`, result.stderr && `stderr:\n${result.stderr}`]
      .filter(Boolean).join('\n')
    return toolResult(result, text)
  }))

  server.registerTool('job_kill', {
    title: 'Kill a job',
    description: 'Stops a job: a pending job is cancelled; a running one gets SIGTERM, then SIGKILL after a grace period (its whole process group). ' +
      'Give signal (e.g. "SIGINT") to send just that signal once.',
    inputSchema: { job_id: jobId, signal: z.string().optional().describe('A signal name such as SIGINT or SIGKILL; default: SIGTERM then SIGKILL.') },
    annotations: { destructiveHint: true },
  }, async (args) => guarded(log, 'job_kill', async () => {
    const answer = await backend.kill(args.job_id, args.signal)
    return toolResult(answer, `job ${answer.jobId} ${answer.status}${answer.signal ? ` (${answer.signal} sent)` : ''}`)
  }))

  server.registerTool('job_stdin', {
    title: 'Write to a job\'s stdin',
    description: 'Writes text to the standard input of a running job (include "\\n" to end a line). Set eof to close its stdin afterwards.',
    inputSchema: {
      job_id: jobId,
      data: z.string().describe('The text to write.'),
      eof: z.boolean().optional().describe('Close stdin after writing (the program then sees end of input).'),
    },
  }, async (args) => guarded(log, 'job_stdin', async () => {
    const eof = args.eof ?? false
    const { written } = await backend.writeStdin(args.job_id, args.data, eof)
    return toolResult({ jobId: args.job_id, written, eof }, `wrote ${written} bytes to job ${args.job_id}${eof ? ' and closed its stdin' : ''}`)
  }))
}
