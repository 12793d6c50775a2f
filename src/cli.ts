#!/usr/bin/env node
import { Command, CommanderError, Option } from 'commander'
import { keyFromEnv, resolveKey, writeNewKey } from './auth/key-store.js'
import { ConfigError, loadConfig, SERVER_OPTIONS, type Config, type RawOptions } from './config.js'
import { addClientCommands } from './commands/program.js'
import { createLogger } from './logger.js'
import { VERSION } from './version.js'

// Process exit codes (API.md §11).
const EXIT_OK = 0
// Why: devpilot's wrapper contract: 42 means "update me, then start me again".
const EXIT_RESTART = 42
const EXIT_FAILURE = 1
const EXIT_CONFIG = 78

function configFrom (options: RawOptions): Config {
  return loadConfig(options, process.env)
}

// The state directory alone, so that `key` commands do not trip over unrelated server settings.
function stateDirFrom (options: RawOptions): string {
  return loadConfig({ stateDir: options.stateDir }, { AGENT_RUNTIME_HOME: process.env.AGENT_RUNTIME_HOME }).stateDir
}

function banner (url: string, config: Config, keySource: string): string {
  const keyFile = `${config.stateDir}/api-key`
  const where = keySource === 'env' ? 'from AGENT_RUNTIME_API_KEY' : `in ${keyFile} (print it: agent-server key show)`
  return [
    `agent-server ${VERSION} listening on ${url}`,
    `API key: ${where}`,
    'First job:',
    `  curl -s -X POST ${url}/exec -H "X-API-Key: $(agent-server key show)" -H 'Content-Type: application/json' -d '{"command":"echo hello"}'`,
    `  curl -s "${url}/jobs/<jobId>?wait=10" -H "X-API-Key: $(agent-server key show)"`,
    '',
  ].join('\n')
}

async function serve (options: RawOptions): Promise<void> {
  const config = configFrom(options)
  const log = createLogger(config.logLevel)
  // Why: handlers go in before anything is printed, so a stop sent right after the banner is never lost.
  let stopSignal: string | undefined
  let stopServer = (signal: string): void => { stopSignal = signal }
  process.once('SIGINT', (signal) => stopServer(signal))
  process.once('SIGTERM', (signal) => stopServer(signal))
  // Why: loaded here, not at the top, so that `--wrapper` and the client commands never load Fastify.
  const { runServer } = await import('./server.js')
  let closeServer = async (): Promise<void> => {}
  const exitAfterClose = (code: number): void => {
    closeServer().then(() => process.exit(code), (err: unknown) => {
      log.error({ err }, 'stop failed')
      process.exit(EXIT_FAILURE)
    })
  }
  const server = await runServer(config, log, {
    onRestart: () => {
      log.info('restarting for an update')
      exitAfterClose(EXIT_RESTART)
    },
  })
  closeServer = server.close
  stopServer = (signal) => {
    log.info({ signal }, 'stopping')
    exitAfterClose(EXIT_OK)
  }
  if (stopSignal !== undefined) return stopServer(stopSignal)
  process.stderr.write(banner(server.url, config, keyFromEnv(process.env) ? 'env' : 'file'))
}

function buildProgram (done: (code: number) => void): Command {
  const program = new Command('agent-server')
    .description('Run the agent-runtime server, or talk to one.')
    .version(VERSION, '-v, --version')
    .exitOverride()
    .showSuggestionAfterError(false)
    // Why: without this the server's --state-dir would swallow the one given after a subcommand.
    .enablePositionalOptions()
  for (const spec of SERVER_OPTIONS) {
    const option = new Option(spec.flag, `${spec.description} (env ${spec.env})`)
    if (spec.repeatable === true) option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value])
    program.addOption(option)
  }
  program.action(async (options: RawOptions) => serve(options))

  const stateDirOption = (): Option => new Option('--state-dir <dir>', 'state directory (env AGENT_RUNTIME_HOME)')
  const key = program.command('key').description('show or rotate the API key').exitOverride()
  key.command('show').description('print the API key').addOption(stateDirOption()).exitOverride()
    .action((options: RawOptions) => {
      process.stdout.write(`${resolveKey(stateDirFrom(options), process.env).key}\n`)
    })
  key.command('rotate').description('replace the API key in the key file; running servers use it at once').addOption(stateDirOption()).exitOverride()
    .action((options: RawOptions) => {
      process.stdout.write(`${writeNewKey(stateDirFrom(options))}\n`)
      if (keyFromEnv(process.env)) {
        process.stderr.write('note: AGENT_RUNTIME_API_KEY is set here; servers started with it keep using that key until restarted without it\n')
      }
    })
  addClientCommands(program, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }, process.env, done)
  return program
}

// Why: stdout to a pipe is asynchronous; exiting before it drained would cut the job's output short.
async function exitAfterFlush (code: number): Promise<never> {
  await Promise.all([process.stdout, process.stderr].map((s) => new Promise((resolve) => s.write('', resolve))))
  process.exit(code)
}

async function main (): Promise<void> {
  try {
    let exitCode: number | undefined
    await buildProgram((code) => { exitCode = code }).parseAsync(process.argv)
    if (exitCode !== undefined) await exitAfterFlush(exitCode)
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed its one-line message (or the help / version text).
      process.exit(err.exitCode === 0 ? EXIT_OK : EXIT_CONFIG)
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`agent-server: ${err.message}\n`)
      process.exit(EXIT_CONFIG)
    }
    process.stderr.write(`agent-server: ${(err as Error).message}\n`)
    await exitAfterFlush(EXIT_FAILURE)
  }
}

await main()
