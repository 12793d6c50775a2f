import { accessSync, constants, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { KEY_FILE_NAME, keyFromEnv } from '../../auth/key-store.js'
import { result, type CheckResult } from './check.js'

const octal = (mode: number): string => (mode & 0o777).toString(8).padStart(3, '0')

const writable = (path: string): boolean => {
  try {
    accessSync(path, constants.W_OK | constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** The state directory: a writable directory of ours, closed to other users (the server makes it 0700). */
export function checkStateDir (stateDir: string): CheckResult {
  let stats
  try {
    stats = statSync(stateDir)
  } catch {
    // Why the parent: the first start creates the directory, which needs a writable parent.
    let parent = dirname(stateDir)
    while (parent !== dirname(parent)) {
      try { statSync(parent); break } catch { parent = dirname(parent) }
    }
    if (!writable(parent)) return result('state dir', 'fail', `${stateDir} does not exist and ${parent} is not writable`, `create it for this user: sudo install -d -m 700 -o $(id -u) ${stateDir}, or pick another with --state-dir`)
    return result('state dir', 'ok', `${stateDir} does not exist yet (the first start creates it, mode 0700)`)
  }
  if (!stats.isDirectory()) return result('state dir', 'fail', `${stateDir} is not a directory`, 'move it away, or pick another with --state-dir')
  const uid = process.getuid?.()
  if (uid !== undefined && stats.uid !== uid) return result('state dir', 'fail', `${stateDir} belongs to uid ${stats.uid}, not to this user (uid ${uid})`, `sudo chown -R ${uid} ${stateDir} (in Docker: run the container with --user ${stats.uid}, docs/operations.md)`)
  if (!writable(stateDir)) return result('state dir', 'fail', `${stateDir} is not writable (mode ${octal(stats.mode)})`, `chmod 700 ${stateDir}`)
  if ((stats.mode & 0o077) !== 0) return result('state dir', 'warn', `${stateDir} is open to other users (mode ${octal(stats.mode)}; the server sets 0700 on start)`, `chmod 700 ${stateDir}`)
  return result('state dir', 'ok', `${stateDir} (mode ${octal(stats.mode)})`)
}

/** The key file: mode 0600, or the key comes from the environment. */
export function checkKeyFile (stateDir: string, env: NodeJS.ProcessEnv): CheckResult {
  if (keyFromEnv(env)) return result('key file', 'ok', 'the key comes from AGENT_RUNTIME_API_KEY')
  const file = join(stateDir, KEY_FILE_NAME)
  let stats
  try {
    stats = statSync(file)
  } catch {
    return result('key file', 'ok', `${file} does not exist yet (the first start writes a new key, mode 0600)`)
  }
  if ((stats.mode & 0o077) !== 0) {
    return result('key file', 'fail', `${file} has mode ${octal(stats.mode)}: other users may have read the key`, `chmod 600 ${file}, then agent-server key rotate --state-dir ${stateDir}`)
  }
  return result('key file', 'ok', `${file} (mode ${octal(stats.mode)})`)
}
