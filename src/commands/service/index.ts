import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { homedir, userInfo } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ConfigError, loadConfig } from '../../config.js'
import { findOnPath } from '../doctor/check.js'
import type { CommandIo } from '../io.js'
import { launchdPlist, systemdUnit, type ServiceSpec } from './units.js'
import { errorMessage } from '../../lib/error-message.js'

/** The flags of `agent-server service install|uninstall`. */
export interface ServiceOptions {
  user?: boolean | undefined
  dryRun?: boolean | undefined
  name: string
  port?: string | undefined
  host?: string | undefined
  stateDir?: string | undefined
  /** systemd or launchd; default by platform. */
  format?: string | undefined
}

type Format = 'systemd' | 'launchd'

// The installed CLI: dist/cli.js at the package root (two levels above src/commands/service and dist/commands/service).
const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const SYSTEMCTL_TIMEOUT_MS = 30_000

function formatOf (options: ServiceOptions): Format {
  const format = options.format ?? (process.platform === 'darwin' ? 'launchd' : 'systemd')
  if (format !== 'systemd' && format !== 'launchd') throw new ConfigError(`--format must be systemd or launchd, got "${format}"`)
  if (options.format === undefined && process.platform !== 'linux' && process.platform !== 'darwin') throw new ConfigError(`no service manager known on ${process.platform}: only systemd (Linux) and launchd (macOS)`)
  return format
}

const label = (name: string): string => `local.${name}`

/** Where the unit or plist goes: per user (`--user`) or for the whole machine. */
export function servicePath (format: Format, options: Pick<ServiceOptions, 'user' | 'name'>, env: NodeJS.ProcessEnv): string {
  const home = homedir()
  if (format === 'launchd') return options.user === true ? join(home, 'Library/LaunchAgents', `${label(options.name)}.plist`) : `/Library/LaunchDaemons/${label(options.name)}.plist`
  if (options.user === true) return join(env.XDG_CONFIG_HOME || join(home, '.config'), 'systemd/user', `${options.name}.service`)
  return `/etc/systemd/system/${options.name}.service`
}

/** The service text for these flags: `agent-server --wrapper` with the port, host and state dir fixed in it. */
export function serviceText (options: ServiceOptions, extraArgs: readonly string[], env: NodeJS.ProcessEnv): { format: Format, path: string, text: string } {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(options.name)) throw new ConfigError(`--name must be letters, digits, '.', '_' or '-', got "${options.name}"`)
  const format = formatOf(options)
  const config = loadConfig({ port: options.port, host: options.host, stateDir: options.stateDir }, env)
  if (config.port === 0) throw new ConfigError('a service needs a fixed --port: the wrapper checks the health of a new version on it')
  const cli = join(PACKAGE_ROOT, 'dist/cli.js')
  if (!existsSync(cli)) throw new ConfigError(`${cli} is missing: build first (npm run build)`)
  const spec: ServiceSpec = {
    name: options.name,
    argv: [process.execPath, cli, '--wrapper', '--port', String(config.port), '--host', config.host, '--state-dir', config.stateDir, ...extraArgs],
    path: env.PATH || '/usr/local/bin:/usr/bin:/bin',
    workdir: homedir(),
    user: options.user === true ? undefined : (env.SUDO_USER || userInfo().username),
    logFile: join(config.stateDir, 'service.log'),
  }
  const text = format === 'systemd' ? systemdUnit(spec, options.user === true) : launchdPlist(spec, label(options.name))
  return { format, path: servicePath(format, options, env), text }
}

function nextSteps (format: Format, path: string, options: ServiceOptions): string {
  const user = options.user === true
  if (format === 'launchd') return `load it: ${user ? 'launchctl bootstrap gui/$(id -u)' : 'sudo launchctl bootstrap system'} ${path}\n`
  const systemctl = user ? 'systemctl --user' : 'sudo systemctl'
  return [
    `start it now and on every boot: ${systemctl} daemon-reload && ${systemctl} enable --now ${options.name}`,
    `logs: journalctl ${user ? '--user ' : ''}-u ${options.name} -f`,
    ...(user ? ['keep it running after you log out: loginctl enable-linger $USER'] : []),
    '',
  ].join('\n')
}

/** `agent-server service install`: writes the unit (or prints it with `dryRun`) and says how to start it. */
export async function runServiceInstall (options: ServiceOptions, extraArgs: readonly string[], env: NodeJS.ProcessEnv, io: CommandIo): Promise<number> {
  const { format, path, text } = serviceText(options, extraArgs, env)
  if (options.dryRun === true) {
    io.stderr.write(`# would write ${path}\n`)
    io.stdout.write(text)
    return 0
  }
  const replaced = existsSync(path)
  if (replaced && readFileSync(path, 'utf8') === text) {
    io.stdout.write(`${path} is already up to date\n${nextSteps(format, path, options)}`)
    return 0
  }
  try {
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(path, text, { mode: 0o644 })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new Error(`cannot write ${path}: ${code ?? errorMessage(err)}${code === 'EACCES' ? ' (use sudo, or --user for a per-user service)' : ''}`, { cause: err })
  }
  io.stdout.write(`${replaced ? 'replaced' : 'wrote'} ${path}\n${nextSteps(format, path, options)}`)
  return 0
}

/** Runs a service-manager command, returning its error line instead of throwing. */
function tryRun (program: string, args: string[], env: NodeJS.ProcessEnv): string | null {
  if (findOnPath(program, env.PATH) === null) return `${program} not found`
  try {
    execFileSync(program, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: SYSTEMCTL_TIMEOUT_MS, encoding: 'utf8' })
    return null
  } catch (err) {
    return ((err as { stderr?: string }).stderr ?? errorMessage(err)).trim().split('\n')[0] ?? 'failed'
  }
}

/** `agent-server service uninstall`: stops and disables the service (when its manager answers) and removes its file. */
export async function runServiceUninstall (options: ServiceOptions, env: NodeJS.ProcessEnv, io: CommandIo): Promise<number> {
  const format = formatOf(options)
  const path = servicePath(format, options, env)
  if (!existsSync(path)) {
    io.stdout.write(`no service file at ${path}: nothing to remove\n`)
    return 0
  }
  if (options.dryRun === true) {
    io.stdout.write(`would stop the service and remove ${path}\n`)
    return 0
  }
  const user = options.user === true
  const stopped = format === 'systemd'
    ? tryRun('systemctl', [...(user ? ['--user'] : []), 'disable', '--now', `${options.name}.service`], env)
    : tryRun('launchctl', ['bootout', user ? `gui/${process.getuid?.() ?? 0}` : 'system', path], env)
  if (stopped !== null) io.stderr.write(`note: could not stop the service (${stopped}); stop it yourself if it runs\n`)
  rmSync(path, { force: true })
  if (format === 'systemd') tryRun('systemctl', [...(user ? ['--user'] : []), 'daemon-reload'], env)
  io.stdout.write(`removed ${path}\n`)
  return 0
}
