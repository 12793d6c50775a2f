import { Command, InvalidArgumentError, Option } from 'commander'
import { RuntimeClient, RuntimeError, type JobStatus } from '../client/index.js'
import { resolveStateDir } from '../config.js'
import { JOB_STATUSES } from '../contract/job-status.js'
import { isSignalName } from '../exec/process-group.js'
import { addAdminCommands } from './admin-commands.js'
import { runAttach } from './attach.js'
import { addContextCommands } from './context-commands.js'
import { runCp } from './cp.js'
import { resolveCredentials, type Credentials } from './credentials.js'
import { execFlagConflict, runExec } from './exec.js'
import { runHealth } from './health.js'
import type { CommandIo } from './io.js'
import { runJobs, runLogs } from './jobs.js'
import { runStatus, runStop } from './lifecycle.js'
import { runSessionRm, runSessions } from './sessions.js'
import { runMcpStdio } from './mcp.js'
import { errorMessage } from '../lib/error-message.js'

type ClientFlags = { url?: string, key?: string, stateDir?: string }

/**
 * A Commander parser for a number of seconds ≥ 0. Why: `Number` turns `abc` into NaN, which
 * `stop` waited on for ever; Commander reports the refusal in one line, and the CLI exits 78.
 */
function seconds (value: string): number {
  const number = Number(value)
  if (value.trim() === '' || !Number.isFinite(number) || number < 0) throw new InvalidArgumentError('It must be a number of seconds (0 or more).')
  return number
}

/** A Commander parser for a signal name: `INT`, `sigint` and `SIGINT` all mean SIGINT. */
export function signalName (value: string): string {
  const upper = value.trim().toUpperCase()
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`
  if (!isSignalName(name)) throw new InvalidArgumentError('It must be a signal name such as SIGTERM, SIGINT, SIGHUP, SIGQUIT or SIGKILL.')
  return name
}

/** A Commander parser for a whole number from 1 to `max` (refused here, before anything is sent). */
const count = (max: number) => (value: string): number => {
  const number = Number(value)
  if (!Number.isSafeInteger(number) || number < 1 || number > max) throw new InvalidArgumentError(`It must be a whole number from 1 to ${max}.`)
  return number
}

// The server's own bound for GET /jobs?limit.
const MAX_JOBS_LIMIT = 1000

/** The client for a command's --url/--key/--state-dir (credentials resolved as every client command does). */
export function clientFrom (flags: ClientFlags, env: NodeJS.ProcessEnv): RuntimeClient {
  return connect(flags, env).client
}

/** The client and the credentials it uses (their sources go into error messages). */
export function connect (flags: ClientFlags, env: NodeJS.ProcessEnv): { client: RuntimeClient, credentials: Credentials } {
  const credentials = resolveCredentials(flags, env, resolveStateDir(flags.stateDir, env))
  return { client: new RuntimeClient({ url: credentials.url, ...(credentials.apiKey ? { apiKey: credentials.apiKey } : {}) }), credentials }
}

/**
 * Turns a client failure into the one line a person needs to read; with `credentials`, it says
 * where a URL or key came from when the user did not type it (a saved context, server.json, …).
 */
export function describeClientError (err: unknown, context: { url?: string, jobId?: string, credentials?: Credentials } = {}): string {
  if (!(err instanceof RuntimeError)) return errorMessage(err)
  const credentials = context.credentials
  const urlFrom = credentials !== undefined && credentials.urlSource !== '--url' ? ` (from ${credentials.urlSource})` : ''
  if (err.status === 401) {
    if (credentials !== undefined && credentials.apiKey === undefined) return `the server at ${credentials.url}${urlFrom} wants an API key and none was found (no --key, AGENT_RUNTIME_API_KEY, saved context or local key file)`
    const keyFrom = credentials?.keySource !== undefined && credentials.keySource !== '--key' ? ` from ${credentials.keySource}` : ''
    return `the server${context.url ? ` at ${context.url}` : ''}${urlFrom} refused the API key${keyFrom} (pass --key or set AGENT_RUNTIME_API_KEY)`
  }
  if (err.code === 'JOB_NOT_FOUND' && context.jobId) return `job ${context.jobId} not found`
  if (err.status === 0 && urlFrom !== '') return `${err.error}${urlFrom}`
  return err.error
}

/** Adds --url, --key and --state-dir to a client command. */
export const withClientOptions = (command: Command): Command => command
  .option('--url <url>', 'server URL (env AGENT_RUNTIME_URL; default http://127.0.0.1:8585)')
  .option('--key <key>', 'API key (env AGENT_RUNTIME_API_KEY; default: the local key file for a local URL)')
  .option('--state-dir <dir>', 'local state directory holding the key file (env AGENT_RUNTIME_HOME)')

/**
 * Adds the client commands (exec, logs, jobs, kill, attach, health) to the program; each reports its exit
 * code through `done`.
 */
export function addClientCommands (program: Command, io: CommandIo, env: NodeJS.ProcessEnv, done: (code: number) => void): void {
  const run = async (flags: ClientFlags, jobId: string | undefined, work: (client: RuntimeClient) => Promise<number>): Promise<void> => {
    const { client, credentials } = connect(flags, env)
    try {
      done(await work(client))
    } catch (err) {
      throw new Error(describeClientError(err, { url: client.url, credentials, ...(jobId ? { jobId } : {}) }), { cause: err })
    }
  }

  withClientOptions(program.command('exec'))
    .description('run a command on the server and follow its output; exits with its exit code')
    .option('--workdir <dir>', 'working directory on the server')
    .option('--timeout <seconds>', 'timeout in seconds (default 300; 0 = none)', seconds)
    .option('--env <NAME=VALUE>', 'environment variable for the command (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--detach', 'print the job id and return at once')
    .option('--json', "print the job's final record (GET /jobs/:id) as JSON instead of its output; with --detach, {jobId}")
    .option('--session <key>', 'run in this persistent shell session (created on first use; state lasts across commands)')
    .option('--shell <shell>', 'with --session: bash, zsh or sh (default bash); else the shell program (default /bin/sh)')
    .option('-i, --interactive', 'forward stdin to the job even from a terminal (piped stdin always is); EOF closes it')
    .option('-t, --tty', 'run the job on a terminal of this window\'s size; keys go to it as typed (Ctrl-C included)')
    .argument('<command...>', 'the command (put it after --)')
    // Why: `exec ls -la` fails on `-la`, which is the command's option, not ours: say where it goes.
    .configureOutput({
      outputError: (message, write) => write(/unknown option/.test(message)
        ? `${message.trimEnd()} (put the command after --, e.g. agent-server exec -- ls -la)\n`
        : message),
    })
    .action(async (argv: string[], flags: ClientFlags & { workdir?: string, timeout?: number, env?: string[], detach?: boolean, session?: string, shell?: string, interactive?: boolean, tty?: boolean, json?: boolean }, command: Command) => {
      const conflict = execFlagConflict(flags)
      // Why 78: a usage mistake, like every other (cli.ts maps any Commander error to 78 as well).
      if (conflict !== null) command.error(`error: ${conflict}`, { exitCode: 78 })
      await run(flags, undefined, (client) => runExec(client, argv, flags, io))
    })

  const sessions = withClientOptions(program.command('sessions'))
    .description("list the server's persistent shell sessions")
    .option('--json', 'print the JSON the server sent')
    .action(async (flags: ClientFlags & { json?: boolean }) =>
      run(flags, undefined, (client) => runSessions(client, flags, io)))
  withClientOptions(sessions.command('rm'))
    .description('end persistent shell sessions: kill their processes, fail their commands')
    .argument('<key...>', 'session keys')
    .action(async (keys: string[], flags: ClientFlags) =>
      run(flags, undefined, (client) => runSessionRm(client, keys, io)))

  withClientOptions(program.command('logs'))
    .description("print a job's output (stdout to stdout, stderr to stderr)")
    .option('-f, --follow', 'keep printing until the job ends')
    .argument('<job>', 'job id')
    .action(async (jobId: string, flags: ClientFlags & { follow?: boolean }) =>
      run(flags, jobId, (client) => runLogs(client, jobId, flags.follow === true, io)))

  withClientOptions(program.command('jobs'))
    .description('list jobs, newest first')
    .addOption(new Option('--status <status>', 'only jobs with this status').choices(JOB_STATUSES))
    .option('--limit <n>', `at most this many (default 20, max ${MAX_JOBS_LIMIT})`, count(MAX_JOBS_LIMIT))
    .option('--json', 'print the JSON the server sent')
    .action(async (flags: ClientFlags & { status?: JobStatus, limit?: number, json?: boolean }) =>
      run(flags, undefined, (client) => runJobs(client, flags, io)))

  withClientOptions(program.command('kill'))
    .description('end a job: SIGTERM, then SIGKILL after the grace (or send --signal once)')
    .option('--signal <name>', 'signal to send, e.g. SIGINT or INT', signalName)
    .argument('<job>', 'job id')
    .action(async (jobId: string, flags: ClientFlags & { signal?: string }) =>
      run(flags, jobId, async (client) => {
        const answer = await client.kill(jobId, flags.signal)
        io.stdout.write(`${answer.jobId} ${answer.status}${answer.signal ? ` (${answer.signal} sent)` : ''}\n`)
        return 0
      }))

  withClientOptions(program.command('attach'))
    .description("open a terminal on the server in this one (Ctrl-] detaches; the shell's exit code is ours)")
    .option('--workdir <dir>', 'start directory on the server')
    .option('--shell <shell>', 'shell on the server (default: the login shell of the server user)')
    .option('--session <id>', 'reattach to a running terminal instead of starting one')
    .option('--readonly', 'watch without typing')
    .action(async (flags: ClientFlags & { workdir?: string, shell?: string, session?: string, readonly?: boolean }) => {
      const credentials = resolveCredentials(flags, env, resolveStateDir(flags.stateDir, env))
      try {
        done(await runAttach(credentials, flags, io))
      } catch (err) {
        throw new Error(describeClientError(err, { url: credentials.url, credentials }), { cause: err })
      }
    })

  withClientOptions(program.command('cp'))
    .description('copy a file or a directory between here and the server, e.g. cp ./dir server:/tmp/dir or cp server:/var/log/x.log .')
    .option('--no-progress', 'no progress line, even on a terminal')
    .argument('<src>', 'source: a local path, or server:PATH')
    .argument('<dst>', 'destination: a local path, or server:PATH')
    .action(async (src: string, dst: string, flags: ClientFlags & { progress?: boolean }) =>
      run(flags, undefined, (client) => runCp(client, src, dst, flags, io)))

  withClientOptions(program.command('health'))
    .description("print the server's health (exit 1 when it refused the key)")
    .option('--json', 'print the JSON the server sent')
    .action(async (flags: ClientFlags & { json?: boolean }) =>
      run(flags, undefined, async (client) =>
        runHealth(client, { json: flags.json, hadKey: Boolean(resolveCredentials(flags, env, resolveStateDir(flags.stateDir, env)).apiKey) }, io)))

  addContextCommands(program, io, env, done)
  addAdminCommands(program, io, env, done)
  withClientOptions(program.command('mcp'))
    .description('serve the MCP tools (run_command, files, agents…) over stdin/stdout, calling the server at --url')
    .requiredOption('--stdio', 'speak MCP over stdin/stdout (the only transport here; the server itself serves /mcp over HTTP)')
    .action(async (flags: ClientFlags) => run(flags, undefined, (client) => runMcpStdio(client, io)))

  program.command('status')
    .description('say whether a server runs on this state directory, its version, uptime and jobs')
    .option('--state-dir <dir>', 'state directory (env AGENT_RUNTIME_HOME)')
    .option('--json', 'print one JSON object (running, pid, url, version, uptimeSeconds, health, fleet)')
    .action(async (flags: { stateDir?: string, json?: boolean }) => done(await runStatus(resolveStateDir(flags.stateDir, env), env, io, flags)))

  program.command('stop')
    .description('stop the server on this state directory gracefully (its wrapper stops too) and wait')
    .option('--state-dir <dir>', 'state directory (env AGENT_RUNTIME_HOME)')
    .option('--timeout <seconds>', 'how long to wait', seconds, 60)
    .option('--sessions', 'end every persistent shell session first (by default they outlive the stop)')
    .action(async (flags: { stateDir?: string, timeout: number, sessions?: boolean }) =>
      done(await runStop(resolveStateDir(flags.stateDir, env), flags.timeout, io, { sessions: flags.sessions === true, env })))
}
