import { createInterface } from 'node:readline/promises'
import { StringDecoder } from 'node:string_decoder'
import type { RuntimeClient } from '../client/index.js'
import { exitCodeOf, followOutput } from './follow.js'
import type { CommandIo } from './io.js'
import { Spinner } from './spinner.js'

export interface ExecOptions {
  workdir?: string | undefined
  timeout?: number | undefined
  env?: string[] | undefined
  detach?: boolean | undefined
  /** Run in this persistent shell session. */
  session?: string | undefined
  shell?: string | undefined
  /** Print the final job record (or, with `detach`, the submit answer) as JSON instead of the output. */
  json?: boolean | undefined
}

const EXIT_INTERRUPTED = 130
// The server's timeout for a job that names none (`POST /exec`, docs/api.md).
const DEFAULT_TIMEOUT_SEC = 300

/**
 * Sends local stdin to the job chunk by chunk and closes the job's stdin at EOF. Failures (the job
 * ended, the server went away) stop the forwarding quietly: the output stream reports the outcome.
 */
async function forwardInput (client: RuntimeClient, jobId: string, io: CommandIo): Promise<void> {
  // Why a decoder: a UTF-8 character split across two reads must not become two U+FFFD.
  const decoder = new StringDecoder('utf8')
  try {
    for await (const chunk of io.stdin) {
      const text = typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer)
      if (text !== '') await client.writeStdin(jobId, text)
    }
    await client.writeStdin(jobId, decoder.end(), true)
  } catch {
    // the job no longer takes input
  }
}

/** `exec --json`: waits for the job's end and prints its record as the server sent it; the exit code mirrors the job's. */
async function printFinalRecord (client: RuntimeClient, jobId: string, options: ExecOptions, signal: AbortSignal, io: CommandIo): Promise<number> {
  const job = await client.wait(jobId, { signal })
  if (job.status === 'timeout') io.stderr.write(`agent-server: job ${jobId} timed out after ${options.timeout ?? DEFAULT_TIMEOUT_SEC} s\n`)
  io.stdout.write(JSON.stringify(job, null, 2) + '\n')
  return exitCodeOf({ status: job.status, exitCode: job.exitCode, signal: null, error: null })
}

const shellQuote = (arg: string): string => /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`

/** One argument is a command line as typed; several are quoted word by word. */
export function commandLine (argv: readonly string[]): string {
  return argv.length === 1 ? argv[0] as string : argv.map(shellQuote).join(' ')
}

/** Parses repeated --env K=V flags. */
export function parseEnv (pairs: readonly string[] = []): Record<string, string> {
  const env: Record<string, string> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new Error(`--env wants NAME=VALUE, got "${pair}"`)
    env[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  return env
}

async function askToKill (io: CommandIo, jobId: string): Promise<boolean> {
  const rl = createInterface({ input: io.stdin, output: io.stderr })
  try {
    const answer = await rl.question(`\nKill job ${jobId} on the server? [y/N] (no: detach and leave it running) `)
    return /^y(es)?$/i.test(answer.trim())
  } finally {
    rl.close()
  }
}

/**
 * `agent-server exec -- CMD…`: submits, then mirrors the job's output and exit code. Ctrl-C asks
 * (on a terminal) whether to kill the job or detach; elsewhere it detaches and prints the job id.
 */
export async function runExec (client: RuntimeClient, argv: readonly string[], options: ExecOptions, io: CommandIo): Promise<number> {
  if (argv.length === 0) throw new Error('exec needs a command after --')
  const env = parseEnv(options.env)
  const interactive = io.stdin.isTTY === true && io.stderr.isTTY === true
  const following = new AbortController()
  let jobId: string | undefined
  let spinner: Spinner | undefined
  const forwardStdin = io.stdin.isTTY !== true
  let forwarding: Promise<void> | undefined
  let question: Promise<void> | undefined
  const detach = (): void => following.abort()
  // Why: installed before the submit, so that a Ctrl-C while it is in flight detaches too.
  const onInterrupt = (): void => {
    spinner?.stop()
    if (!interactive || jobId === undefined) return detach()
    process.removeListener('SIGINT', onInterrupt)
    const asking = askToKill(io, jobId).then(async (kill) => {
      if (kill && jobId !== undefined) await client.kill(jobId)
      else detach()
    }).catch(detach)
    question = asking.finally(() => { question = undefined })
  }
  process.on('SIGINT', onInterrupt)
  try {
    const request = {
      command: commandLine(argv),
      ...(options.workdir !== undefined ? { workdir: options.workdir } : {}),
      ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
      ...(Object.keys(env).length > 0 ? { env } : {}),
      ...(options.shell !== undefined ? { shell: options.shell } : {}),
    }
    // Why not for a session: its commands take input through stdin/nudge and their stdin is never
    // closed (the shell's own stays open), so local input is not forwarded there.
    const forwardToJob = options.session === undefined && forwardStdin
    jobId = (options.session !== undefined
      ? await client.submitSession({ ...request, sessionKey: options.session })
      // Why: a job whose stdin stays open waits for ever in `cat` or `read`; a terminal's keys are
      // not meant for the job, so its stdin is closed at once; piped input is forwarded below.
      : await client.submit({ ...request, stdinEof: !forwardToJob })).jobId
    if (forwardToJob) forwarding = forwardInput(client, jobId, io)
    if (options.detach) {
      io.stdout.write(options.json === true ? JSON.stringify({ jobId }, null, 2) + '\n' : `${jobId}\n`)
      return 0
    }
    if (options.json === true) return await printFinalRecord(client, jobId, options, following.signal, io)
    spinner = io.stderr.isTTY ? new Spinner(io.stderr) : undefined
    if (following.signal.aborted) throw following.signal.reason
    const exit = await followOutput(client, jobId, io, { signal: following.signal, spinner, hold: async () => question })
    if (exit?.status === 'timeout') io.stderr.write(`agent-server: job ${jobId} timed out after ${options.timeout ?? DEFAULT_TIMEOUT_SEC} s\n`)
    return exitCodeOf(exit)
  } catch (err) {
    if (!following.signal.aborted || jobId === undefined) throw err
    io.stderr.write(`detached: job ${jobId} keeps running (agent-server logs -f ${jobId})\n`)
    return EXIT_INTERRUPTED
  } finally {
    if (forwarding) io.stdin.destroy()
    process.removeListener('SIGINT', onInterrupt)
    spinner?.stop()
  }
}
