#!/usr/bin/env node
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Command, CommanderError, Option } from 'commander'
import { KEY_FILE_NAME, keyFromEnv, resolveKey, writeNewKey } from './auth/key-store.js'
import { ConfigError, DEFAULTS, loadConfig, resolveStateDir, SERVER_OPTIONS, type Config, type RawOptions } from './config.js'
import { addClientCommands } from './commands/program.js'
import { connectableUrl } from './commands/credentials.js'
import { unknownCommandMessage } from './commands/suggest.js'
import { FLEET_OWNER_ENV } from './fleet/owner.js'
import type { RunningServer } from './server.js'
import { createLogger } from './logger.js'
import { EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, EXIT_UPDATE } from './update/child-exit.js'
import { VERSION } from './version.js'
import { shellQuote } from './lib/shell-words.js'
import { errorMessage } from './lib/error-message.js'

function configFrom (options: RawOptions): Config {
  return loadConfig(options, process.env)
}

/**
 * The lines printed once the server listens. Why the curl reads the key file itself: after `npm ci`
 * `agent-server` is not on PATH, so `$(agent-server key show)` sent an empty key and got 401.
 */
function banner (url: string, config: Config, keySource: string): string {
  const keyFile = join(config.stateDir, KEY_FILE_NAME)
  const keyRef = keySource === 'env' ? '$AGENT_RUNTIME_API_KEY' : `$(cat ${shellQuote(keyFile)})`
  const stateFlag = config.stateDir === DEFAULTS.stateDir ? '' : ` --state-dir ${shellQuote(config.stateDir)}`
  const where = keySource === 'env' ? 'from AGENT_RUNTIME_API_KEY' : `in ${keyFile} (print it: npx agent-server key show${stateFlag})`
  const curlUrl = connectableUrl(url)
  return [
    `agent-server ${VERSION} listening on ${url}`,
    `API key: ${where}`,
    'First job:',
    `  curl -s -X POST ${curlUrl}/exec -H "X-API-Key: ${keyRef}" -H 'Content-Type: application/json' -d '{"command":"echo hello"}'`,
    `  curl -s "${curlUrl}/jobs/<jobId>?wait=10" -H "X-API-Key: ${keyRef}"`,
    `Web terminal: ${url}/`,
    '',
  ].join('\n')
}

// The host a local client connects to for a server bound to `host` (wildcards mean this machine).
function connectHost (host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1'
  if (host === '::') return '[::1]'
  return host.includes(':') ? `[${host}]` : host
}

/** `--wrapper`: supervise the server as a child (update on 42, restart after crashes, roll back). */
async function wrap (options: RawOptions): Promise<number> {
  const config = configFrom(options) // bad flags fail here with 78, before any child starts
  if (config.port === 0) throw new ConfigError('--wrapper needs a fixed --port: the health check after an update must find the server')
  const { runWrapper } = await import('./update/wrapper.js')
  const log = createLogger(config.logLevel)
  const commands = await updateCommands(config, log)
  const healthBase = `${config.tls ? 'https' : 'http'}://${connectHost(config.host)}:${config.port}`
  // The wrapper owns the tunnel and the registration, so updates and crash restarts keep the URL.
  const fleetModule = wantsFleetPieces(config) ? await import('./fleet/start.js') : undefined
  fleetModule?.markWrapperOwnsFleet()
  // Why await: the first server child must inherit DEVPILOT_TUNNEL_URL & co., as later ones do.
  const fleet = await fleetModule?.startFleet(config, healthBase, log)
  // Why: execArgv keeps loaders such as `--import tsx` when the CLI runs from source.
  const self = [...process.execArgv, fileURLToPath(import.meta.url)]
  const args = process.argv.slice(2).filter((arg) => arg !== '--wrapper')
  try {
    return await runWrapper({
      child: { command: process.execPath, args: [...self, ...args] },
      versionCommand: { command: process.execPath, args: [...self, '--version'] },
      updateCommand: commands.update,
      rollbackCommand: commands.rollback,
      healthUrl: `${healthBase}/health`,
      log,
    })
  } finally {
    await fleet?.close()
  }
}

/** The wrapper's update and rollback commands: the flags' (an explicit one always wins), else those matching this installation. */
async function updateCommands (config: Config, log: ReturnType<typeof createLogger>): Promise<{ update: string, rollback: string }> {
  const { detectInstallation, updateCommandsFor } = await import('./update/install-source.js')
  const install = detectInstallation()
  const detected = updateCommandsFor(install, config.updateRef)
  const update = config.updateCommand ?? detected.update
  const rollback = config.rollbackCommand ?? detected.rollback
  log.info({ event: 'update-source', kind: install.kind, explicit: config.updateCommand !== null, command: update }, config.updateCommand !== null ? 'update command from --update-command' : `updates: ${detected.source}`)
  return { update, rollback }
}

// Why: a cheap test before importing src/fleet, so a plain server loads none of it.
function wantsFleetPieces (config: Config): boolean {
  return config.fleet.tunnel !== null || config.fleet.register !== null
}

async function serve (options: RawOptions): Promise<void> {
  const config = configFrom(options)
  // Why: read once and removed, so jobs never inherit it (a nested agent-server would skip its tunnel).
  const fleetEnv = { [FLEET_OWNER_ENV]: process.env[FLEET_OWNER_ENV] }
  delete process.env[FLEET_OWNER_ENV]
  const log = createLogger(config.logLevel)
  const running: { server?: RunningServer, fleet?: { close: () => Promise<void> } } = {}
  let exiting = false
  const exitAfterClose = (code: number): void => {
    if (exiting) return
    exiting = true
    const closing = Promise.all([running.fleet?.close(), running.server?.close()])
    closing.then(() => process.exit(code), (err: unknown) => {
      log.error({ err }, 'stop failed')
      process.exit(EXIT_FAILURE)
    })
  }
  // Why: handlers go in before anything is printed, so a stop sent right after the banner is never
  // lost; later signals (systemd and a wrapper may both send one) do not cut the orderly stop short.
  let stopSignal: string | undefined
  const onSignal = (signal: string): void => {
    if (stopSignal !== undefined) return
    stopSignal = signal
    log.info({ signal }, 'stopping')
    if (running.server) exitAfterClose(EXIT_OK)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  // Why: loaded here, not at the top, so that `--wrapper` and the client commands never load Fastify.
  const { runServer } = await import('./server.js')
  const server = running.server = await runServer(config, log, {
    onRestart: () => {
      log.info('restarting for an update')
      exitAfterClose(EXIT_UPDATE)
    },
  })
  if (stopSignal !== undefined) return exitAfterClose(EXIT_OK)
  process.stderr.write(banner(server.url, config, keyFromEnv(process.env) ? 'env' : 'file'))
  if (wantsFleetPieces(config)) {
    const { startFleet, wantsFleet } = await import('./fleet/start.js')
    if (!wantsFleet(config, fleetEnv)) return
    const localUrl = server.url.replace('://0.0.0.0:', '://127.0.0.1:').replace('://[::]:', '://[::1]:')
    running.fleet = await startFleet(config, localUrl, log)
    if (exiting) await running.fleet.close()
  }
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
  program.option('--wrapper', 'run the server as a supervised child: update on exit 42, restart after crashes, roll back bad updates')
  // Why: without these, `agent-server bogus` said "too many arguments" (the server takes none).
  program.allowExcessArguments(true)
  program.action(async (options: RawOptions & { wrapper?: boolean }) => {
    const typed = program.args[0]
    if (typed !== undefined) {
      program.error(unknownCommandMessage(typed, program.commands.map((command) => command.name())), { exitCode: EXIT_CONFIG, code: 'commander.unknownCommand' })
    }
    if (options.wrapper === true) done(await wrap(options))
    else await serve(options)
  })

  const stateDirOption = (): Option => new Option('--state-dir <dir>', 'state directory (env AGENT_RUNTIME_HOME)')
  const key = program.command('key').description('show or rotate the API key').exitOverride()
  key.command('show').description('print the API key').addOption(stateDirOption()).exitOverride()
    .action((options: RawOptions) => {
      const stateDir = resolveStateDir(options.stateDir as string | undefined)
      // Why: a mistyped --state-dir used to create a new directory and print a key no server knows.
      if (!keyFromEnv(process.env) && stateDir !== DEFAULTS.stateDir && !existsSync(stateDir)) {
        throw new ConfigError(`no state directory ${stateDir} (a typo? a server creates it on its first start)`)
      }
      process.stdout.write(`${resolveKey(stateDir, process.env).key}\n`)
    })
  key.command('rotate').description('replace the API key in the key file; running servers use it at once').addOption(stateDirOption()).exitOverride()
    .action((options: RawOptions) => {
      process.stdout.write(`${writeNewKey(resolveStateDir(options.stateDir as string | undefined))}\n`)
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

let mainSettled = false
// Node's exit code when the event loop empties while the top-level await still waits.
const EXIT_UNSETTLED = 13

/**
 * Why: fetch (undici in Node 20.20) never settles when the peer closes the connection at once;
 * nothing then holds the event loop and Node exited 13 without a word. Say what happened instead.
 * (Every other way out either ends `main` or calls process.exit with another code.)
 */
function explainUnsettledExit (): void {
  process.on('exit', () => {
    if (mainSettled || (process.exitCode !== undefined && process.exitCode !== EXIT_UNSETTLED)) return
    process.stderr.write('agent-server: the connection was closed without an answer (is the URL that of an agent-server?)\n')
    process.exitCode = EXIT_FAILURE
  })
}

async function main (): Promise<void> {
  explainUnsettledExit()
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
    process.stderr.write(`agent-server: ${errorMessage(err)}\n`)
    await exitAfterFlush(EXIT_FAILURE)
  }
}

await main()
mainSettled = true
