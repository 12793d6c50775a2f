import { ConfigError, loadConfig } from '../config.js'
import { checkForUpdate } from '../update/available-version.js'
import { detectInstallation, updateCommandsFor } from '../update/install-source.js'
import type { CommandIo } from './io.js'

/**
 * `agent-server update --check`: how this copy was installed, the installed and the available
 * version, and the command a wrapper would run. Exit 0 whether or not an update is available; 1
 * when the available version could not be found out.
 */
export async function runUpdateCheck (options: { check?: boolean | undefined, json?: boolean | undefined, updateRef?: string | undefined }, env: NodeJS.ProcessEnv, io: CommandIo): Promise<number> {
  if (options.check !== true) {
    throw new ConfigError('agent-server update needs --check (a server run with --wrapper installs updates itself after POST /update; docs/operations.md)')
  }
  const config = loadConfig({ updateRef: options.updateRef }, env)
  const install = detectInstallation()
  const detected = updateCommandsFor(install, config.updateRef)
  const command = config.updateCommand ?? detected.update
  const check = await checkForUpdate(install, config.updateRef)
  if (options.json === true) {
    io.stdout.write(JSON.stringify({ ...check, root: install.root, name: install.name, updateCommand: command, explicitCommand: config.updateCommand !== null }, null, 2) + '\n')
  } else {
    io.stdout.write([
      `installed: ${install.name} ${check.installed} (${install.kind}, ${install.root})`,
      `available: ${check.available ?? 'unknown'}`,
      check.message,
      `update command${config.updateCommand !== null ? ' (--update-command)' : ''}: ${command}`,
      '',
    ].join('\n'))
  }
  return check.available === null && (install.kind === 'git' || install.kind === 'npm') ? 1 : 0
}
