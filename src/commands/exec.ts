import { createInterface } from 'node:readline/promises'
import type { RuntimeClient } from '../client/index.js'
import { enterRawMode, forwardInput, forwardWindowSize, localWindowSize, TerminalModes, type TtyExecIo } from './exec-tty.js'
import { exitCodeOf, followOutput } from './follow.js'
import { Spinner } from './spinner.js'
import { shellQuote } from '../lib/shell-words.js'

export interface ExecOptions {
  workdir?: string | undefined
  timeout?: number | undefined
  env?: string[] | undefined
  detach?: boolean | undefined
  /** Run in this persistent shell session. */
  session?: string | undefined
  shell?: string | undefined
  /** `-i`: forward local stdin to the job even from a terminal, and close the job's stdin at EOF. */
  interactive?: boolean | undefined
  /** `-t`: run the job on a terminal of the local window size; keys go to it raw. */
  tty?: boolean | undefined
  /** Print the final job record (or, with `detach`, the submit answer) as JSON instead of the output. */
  json?: boolean | undefined
}

const EXIT_INTERRUPTED = 130
// The server's timeout for a job that names none (`POST /exec`, docs/api.md).
const DEFAULT_TIMEOUT_SEC = 300

/** `exec --json`: waits for the job's end and prints its record as the server sent it; the exit code mirrors the job's. */
async function printFinalRecord (client: RuntimeClient, jobId: string, options: ExecOptions, signal: AbortSignal, io: TtyExecIo): Promise<number> {
  const job = await client.wait(jobId, { signal })
  if (job.status === 'timeout') io.stderr.write(`agent-server: job ${jobId} timed out after ${options.timeout ?? DEFAULT_TIMEOUT_SEC} s\n`)
  io.stdout.write(JSON.stringify(job, null, 2) + '\n')
  return exitCodeOf({ status: job.status, exitCode: job.exitCode, signal: null, error: null })
}

// Why plain words stay bare: the command line is shown back to the user.
const quoteArg = (arg: string): string => /^[\w@%+=:,./-]+$/.test(arg) ? arg : shellQuote(arg)

/** One argument is a command line as typed; several are quoted word by word. */
export function commandLine (argv: readonly string[]): string {
  return argv.length === 1 ? argv[0] as string : argv.map(quoteArg).join(' ')
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

async function askToKill (io: TtyExecIo, jobId: string): Promise<boolean> {
  const rl = createInterface({ input: io.stdin, output: io.stderr })
  try {
    const answer = await rl.question(`\nKill job ${jobId} on the server? [y/N] (no: detach and leave it running) `)
    return /^y(es)?$/i.test(answer.trim())
  } finally {
    rl.close()
  }
}

/**
 * `agent-server exec -- CMD…`: submits, then mirrors the job's output and exit code.
 * Input: piped stdin is forwarded and closed at EOF; a terminal's keys are not (the job's stdin is
 * closed at once) unless `-i` (lines, Ctrl-D ends them) or `-t` (raw keys to the job's terminal).
 * Ctrl-C asks (on a terminal, without -i/-t) whether to kill the job or detach; elsewhere it
 * detaches and prints the job id; under -t it is a key for the job.
 */
/** Why two of exec's flags cannot go together, or null; the CLI reports it as a usage error (exit 78). */
export function execFlagConflict (options: ExecOptions): string | null {
  if (options.session !== undefined && (options.tty === true || options.interactive === true)) {
    return 'exec --session takes no -i or -t: a session command\'s stdin stays open (use agent-server attach for a terminal)'
  }
  if (options.json === true && options.tty === true) return 'exec --json takes no -t: the job\'s screen would not be shown, only its final record'
  return null
}

export async function runExec (client: RuntimeClient, argv: readonly string[], options: ExecOptions, io: TtyExecIo): Promise<number> {
  if (argv.length === 0) throw new Error('exec needs a command after --')
  const conflict = execFlagConflict(options)
  if (conflict !== null) throw new Error(conflict)
  const env = parseEnv(options.env)
  const tty = options.tty === true
  const stdinIsTerminal = io.stdin.isTTY === true
  // Why -i/-t are needed on a terminal only: piped input was always forwarded, and callers rely on it.
  // Why not with --detach: nobody would be left to forward it; the job gets a closed stdin.
  const forwardToJob = options.session === undefined && options.detach !== true && (!stdinIsTerminal || options.interactive === true || tty)
  const interactive = stdinIsTerminal && io.stderr.isTTY === true && !forwardToJob
  const following = new AbortController()
  let jobId: string | undefined
  let spinner: Spinner | undefined
  let forwarding: Promise<void> | undefined
  let question: Promise<void> | undefined
  let leaveRawMode = (): void => {}
  let stopResizing = (): void => {}
  const modes = tty && io.stdout.isTTY === true ? new TerminalModes() : undefined
  let terminalRestored = false
  // Puts the local terminal back (modes the job's program left set, raw mode) before anything more is printed.
  const restoreTerminal = (): void => {
    if (terminalRestored) return
    terminalRestored = true
    if (modes) io.stdout.write(modes.restore())
    leaveRawMode()
  }
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
    jobId = (options.session !== undefined
      // Why no forwarding for a session: its commands take input through stdin/nudge and their
      // stdin is never closed (the shell's own stays open).
      ? await client.submitSession({ ...request, sessionKey: options.session })
      // Why: a job whose stdin stays open waits for ever in `cat` or `read`; without input to
      // forward, its stdin is closed at once.
      : await client.submit({ ...request, stdinEof: !forwardToJob, ...(tty ? { tty: true, ...localWindowSize(io) } : {}) })).jobId
    if (options.detach) {
      terminalRestored = true
      io.stdout.write(options.json === true ? JSON.stringify({ jobId }, null, 2) + '\n' : `${jobId}\n`)
      return 0
    }
    if (tty) {
      leaveRawMode = enterRawMode(io)
      stopResizing = forwardWindowSize(client, jobId, io)
    }
    if (forwardToJob) forwarding = forwardInput(client, jobId, io)
    if (options.json === true) return await printFinalRecord(client, jobId, options, following.signal, io)
    // Why no spinner under -t: the job draws on the terminal itself.
    spinner = io.stderr.isTTY && !tty ? new Spinner(io.stderr) : undefined
    if (following.signal.aborted) throw following.signal.reason
    const exit = await followOutput(client, jobId, io, { signal: following.signal, spinner, hold: async () => question, ...(modes ? { seen: (bytes: Uint8Array) => modes.see(bytes) } : {}) })
    restoreTerminal()
    if (exit?.status === 'timeout') io.stderr.write(`agent-server: job ${jobId} timed out after ${options.timeout ?? DEFAULT_TIMEOUT_SEC} s\n`)
    return exitCodeOf(exit)
  } catch (err) {
    restoreTerminal()
    if (!following.signal.aborted || jobId === undefined) throw err
    io.stderr.write(`detached: job ${jobId} keeps running (agent-server logs -f ${jobId})\n`)
    return EXIT_INTERRUPTED
  } finally {
    restoreTerminal()
    stopResizing()
    if (forwarding) io.stdin.destroy()
    process.removeListener('SIGINT', onInterrupt)
    spinner?.stop()
  }
}
