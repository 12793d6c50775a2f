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
  const { jobId } = await client.submit({
    command: commandLine(argv),
    ...(options.workdir !== undefined ? { workdir: options.workdir } : {}),
    ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
    ...(Object.keys(env).length > 0 ? { env } : {}),
  })
  if (options.detach) {
    io.stdout.write(`${jobId}\n`)
    return 0
  }
  const interactive = io.stdin.isTTY === true && io.stderr.isTTY === true
  const spinner = io.stderr.isTTY ? new Spinner(io.stderr) : undefined
  const following = new AbortController()
  let detached = false
  const onInterrupt = (): void => {
    spinner?.stop()
    if (!interactive) {
      detached = true
      following.abort()
      return
    }
    process.removeListener('SIGINT', onInterrupt)
    askToKill(io, jobId).then(async (kill) => {
      if (kill) await client.kill(jobId)
      else { detached = true; following.abort() }
    }).catch(() => { detached = true; following.abort() })
  }
  process.on('SIGINT', onInterrupt)
  try {
    const exit = await followOutput(client, jobId, io, { signal: following.signal, spinner })
    return exitCodeOf(exit)
  } catch (err) {
    if (!detached) throw err
    io.stderr.write(`detached: job ${jobId} keeps running (agent-server logs -f ${jobId})\n`)
    return EXIT_INTERRUPTED
  } finally {
    process.removeListener('SIGINT', onInterrupt)
    spinner?.stop()
  }
}
