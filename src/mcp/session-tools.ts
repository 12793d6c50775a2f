import { z } from 'zod'
import type { SessionInfo } from '../client/index.js'
import { DEFAULT_WAIT_SEC, waitSeconds } from './job-tools.js'
import { jobSummary, renderJob } from './render.js'
import { awaitStartedJob, guarded, toolResult, type ToolDeps } from './tool-kit.js'

const SHELLS = ['bash', 'zsh', 'sh'] as const

const renderSession = (s: SessionInfo): string =>
  `${s.sessionKey}  ${s.shell}  ${s.status}${s.cwd !== null ? `  cwd ${s.cwd}` : ''}${s.jobId !== null ? `  running job ${s.jobId}` : ''}`

/** session_run and list_sessions: persistent shell sessions (jobs of `mode: "persistent_shell"`) for a model. */
export function registerSessionTools ({ server, backend, log }: ToolDeps): void {
  server.registerTool('session_run', {
    title: 'Run a command in a persistent shell session',
    description: 'Runs a command in a named shell session that keeps its state between calls: current directory, variables, ' +
      'functions, aliases and options (e.g. "cd src" in one call, "ls" in the next). The session is created by its first command, ' +
      'seeded with workdir and env. Commands of one session run one at a time, in order. Like run_command, it waits up to ' +
      'wait_seconds and otherwise returns the job id (poll it with job_status or job_output; job_kill interrupts the command and keeps the shell). ' +
      'Do not run "exit": it ends the shell and its state.',
    inputSchema: {
      session_key: z.string().min(1).describe('The session\'s name, e.g. "main" or "build"; any text. The same key reaches the same shell.'),
      command: z.string().min(1).describe('The command line, run by the session\'s shell as if typed in it.'),
      shell: z.enum(SHELLS).optional().describe('The shell of a new session (default bash). Leave it out for an existing session: it keeps its shell, and another one is refused.'),
      workdir: z.string().optional().describe('Starting directory of a new session (ignored by an existing one; use cd).'),
      env: z.record(z.string(), z.string()).optional().describe('Environment of a new session (ignored by an existing one; use export).'),
      timeout: z.number().min(0).optional().describe('Seconds after which the command is interrupted (the shell and its state stay); 0 = no limit. Default 300.'),
      wait_seconds: waitSeconds('the command', DEFAULT_WAIT_SEC),
      detach: z.boolean().optional().describe('If true, cancelling this call leaves the command running; by default a cancelled call interrupts it.'),
    },
    annotations: { destructiveHint: true, openWorldHint: true },
  }, async (args, extra) => guarded(log, 'session_run', async () => {
    // Why: the API refuses another shell under an existing key; without `shell`, the session's own is meant.
    const shell = args.shell ?? (await backend.sessions()).find((s) => s.sessionKey === args.session_key)?.shell ?? 'bash'
    const id = await backend.submitSession({
      sessionKey: args.session_key,
      command: args.command,
      shell,
      ...(args.workdir !== undefined ? { workdir: args.workdir } : {}),
      ...(args.env !== undefined ? { env: args.env } : {}),
      ...(args.timeout !== undefined ? { timeout: args.timeout } : {}),
    })
    const summary = jobSummary(await awaitStartedJob({ backend, log }, id, (args.wait_seconds ?? DEFAULT_WAIT_SEC) * 1000, args.detach === true, extra))
    const session = (await backend.sessions()).find((s) => s.sessionKey === args.session_key)
    const result = { ...summary, sessionKey: args.session_key, cwd: session?.cwd ?? null }
    return toolResult(result, `session ${args.session_key}${result.cwd !== null ? ` (cwd ${result.cwd})` : ''}: ${renderJob(summary)}`)
  }))

  server.registerTool('list_sessions', {
    title: 'List shell sessions',
    description: 'Lists the persistent shell sessions on the machine (those session_run created, and any made through the HTTP API): ' +
      'key, shell, status (running, idle, stopped), current directory, the running job and times of last use and output.',
    inputSchema: {},
    annotations: { readOnlyHint: true },
  }, async () => guarded(log, 'list_sessions', async () => {
    const sessions = await backend.sessions()
    return toolResult({ sessions }, sessions.length === 0 ? 'no sessions' : sessions.map(renderSession).join('\n'))
  }))
}
