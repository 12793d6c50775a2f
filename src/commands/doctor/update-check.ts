import { detectInstallation, updateCommandsFor } from '../../update/install-source.js'
import { result, type CheckResult } from './check.js'
import { errorMessage } from '../../lib/error-message.js'

/** Where a wrapper's updates would come from (no network: `agent-server update --check` asks). */
export function checkUpdateSource (env: NodeJS.ProcessEnv): CheckResult {
  const install = detectInstallation(undefined, env)
  if (env.AGENT_RUNTIME_UPDATE_COMMAND) return result('updates', 'ok', `--update-command from AGENT_RUNTIME_UPDATE_COMMAND (${install.kind} installation)`)
  let source: string
  try {
    source = updateCommandsFor(install, env.AGENT_RUNTIME_UPDATE_REF || null).source
  } catch (err) {
    return result('updates', 'fail', errorMessage(err).replace('--update-ref', 'AGENT_RUNTIME_UPDATE_REF'), 'set it to a tag, a commit or origin/BRANCH')
  }
  if (install.kind === 'unknown') return result('updates', 'warn', source, 'pass --update-command to a --wrapper, or install from git or npm')
  return result('updates', 'ok', source)
}
