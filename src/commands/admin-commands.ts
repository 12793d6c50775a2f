import type { Command } from 'commander'
import { runDoctor } from './doctor/index.js'
import type { CommandIo } from './io.js'
import { connect, describeClientError, withClientOptions, type clientFrom } from './program.js'
import { runServiceInstall, runServiceUninstall, type ServiceOptions } from './service/index.js'
import { runTerminalKill, runTerminals } from './terminals.js'
import { runUpdateCheck } from './update-check.js'

type ClientFlags = { url?: string, key?: string, stateDir?: string, json?: boolean }

/** Adds `terminals [kill]`, `doctor`, `service` and `update --check`; each reports its exit code through `done`. */
export function addAdminCommands (program: Command, io: CommandIo, env: NodeJS.ProcessEnv, done: (code: number) => void): void {
  const withClient = async (flags: ClientFlags, work: (client: ReturnType<typeof clientFrom>) => Promise<number>): Promise<void> => {
    const { client, credentials } = connect(flags, env)
    try {
      done(await work(client))
    } catch (err) {
      throw new Error(describeClientError(err, { url: client.url, credentials }), { cause: err })
    }
  }

  const terminals = withClientOptions(program.command('terminals'))
    .description('list the open terminals on the server (attach --session ID reattaches one)')
    .option('--json', 'print the JSON list the server sent')
    .action(async (flags: ClientFlags) => withClient(flags, (client) => runTerminals(client, flags, io)))
  withClientOptions(terminals.command('kill'))
    .description('end terminals and wait until their processes are gone')
    .argument('<id...>', 'terminal ids (from agent-server terminals)')
    .option('--json', 'print the JSON answers')
    .action(async (ids: string[], flags: ClientFlags) => withClient(flags, (client) => runTerminalKill(client, ids, flags, io)))

  program.command('doctor')
    .description('check this machine for running the server: each line ok, warn or fail with the fix; exit 1 on a failure')
    .option('--state-dir <dir>', 'state directory to check (env AGENT_RUNTIME_HOME)')
    .option('--port <n>', 'port to check (env AGENT_RUNTIME_PORT; default 8585)')
    .option('--host <addr>', 'address to check (env AGENT_RUNTIME_HOST; default 127.0.0.1)')
    .option('--json', 'print {ok, checks: [{name, status, detail, fix}]}')
    .action(async (flags: { stateDir?: string, port?: string, host?: string, json?: boolean }) => done(await runDoctor(flags, env, io)))

  const service = program.command('service').description('run the server as a system service (systemd on Linux, launchd on macOS)')
  const serviceFlags = (command: Command): Command => command
    .option('--user', 'a per-user service (~/.config/systemd/user, ~/Library/LaunchAgents) instead of a system one')
    .option('--dry-run', 'print what would be written or done, change nothing')
    .option('--name <name>', 'unit name (launchd label local.NAME)', 'agent-runtime')
    .option('--format <kind>', 'systemd or launchd (default: this platform\'s)')
  serviceFlags(service.command('install'))
    .description('write a unit running agent-server --wrapper (KillMode=process: jobs survive a restart; Restart=on-failure); server flags after --')
    .option('--port <n>', 'port (env AGENT_RUNTIME_PORT; default 8585)')
    .option('--host <addr>', 'address to bind (env AGENT_RUNTIME_HOST; default 127.0.0.1)')
    .option('--state-dir <dir>', 'state directory (env AGENT_RUNTIME_HOME)')
    .argument('[server-flags...]', 'more server flags for the unit, after --, e.g. -- --tunnel')
    .action(async (extra: string[], flags: ServiceOptions) => done(await runServiceInstall(flags, extra, env, io)))
  serviceFlags(service.command('uninstall'))
    .description('stop and disable the service, and remove its unit')
    .action(async (flags: ServiceOptions) => done(await runServiceUninstall(flags, env, io)))

  program.command('update')
    .description('with --check: how this copy was installed, the installed and the available version, the update command')
    .option('--check', 'only look: print the installed and the newest available version')
    .option('--update-ref <ref>', 'git checkout: check this tag, commit or origin/BRANCH instead of the newest version tag (env AGENT_RUNTIME_UPDATE_REF)')
    .option('--json', 'print {kind, installed, available, updateAvailable, message, root, name, updateCommand}')
    .action(async (flags: { check?: boolean, json?: boolean, updateRef?: string }) => done(await runUpdateCheck(flags, env, io)))
}
