import { keyFromEnv, readKeyFile } from '../auth/key-store.js'
import { DEFAULT_URL } from '../client/index.js'

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1'])

/** Where the client commands connect and with which key. */
export interface Credentials {
  url: string
  apiKey: string | undefined
}

/**
 * `--url` / AGENT_RUNTIME_URL (default http://127.0.0.1:8585); `--key` / AGENT_RUNTIME_API_KEY, else,
 * for a server on this machine, the key file of the local state directory.
 */
export function resolveCredentials (flags: { url?: string | undefined, key?: string | undefined }, env: NodeJS.ProcessEnv, stateDir: string): Credentials {
  const url = flags.url ?? (env.AGENT_RUNTIME_URL || DEFAULT_URL)
  let host: string
  try { host = new URL(url).hostname } catch { throw new Error(`not a URL: ${url}`) }
  const apiKey = flags.key ?? keyFromEnv(env) ?? (LOCAL_HOSTS.has(host) ? readLocalKey(stateDir) : undefined)
  return { url, apiKey }
}

// Why every error is swallowed: the key file is only a convenience for a client; without it the
// server answers 401, which says more than an EACCES about someone else's state directory.
function readLocalKey (stateDir: string): string | undefined {
  try {
    return readKeyFile(stateDir)
  } catch {
    return undefined
  }
}
