import { createInterface } from 'node:readline/promises'
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
}

const EXIT_INTERRUPTED = 130

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
  const detach = (): void => following.abort()
  // Why: installed before the submit, so that a Ctrl-C while it is in flight detaches too.
  const onInterrupt = (): void => {
    spinner?.stop()
    if (!interactive || jobId === undefined) return detach()
    process.removeListener('SIGINT', onInterrupt)
    askToKill(io, jobId).then(async (kill) => {
      if (kill && jobId !== undefined) await client.kill(jobId)
      else detach()
    }).catch(detach)
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
    jobId = (options.session !== undefined
      ? await client.submitSession({ ...request, sessionKey: options.session })
      : await client.submit(request)).jobId
    if (options.detach) {
      io.stdout.write(`${jobId}\n`)
      return 0
    }
    spinner = io.stderr.isTTY ? new Spinner(io.stderr) : undefined
    if (following.signal.aborted) throw following.signal.reason
    return exitCodeOf(await followOutput(client, jobId, io, { signal: following.signal, spinner }))
  } catch (err) {
    if (!following.signal.aborted || jobId === undefined) throw err
    io.stderr.write(`detached: job ${jobId} keeps running (agent-server logs -f ${jobId})\n`)
    return EXIT_INTERRUPTED
  } finally {
    process.removeListener('SIGINT', onInterrupt)
    spinner?.stop()
  }
}
