import { keyFromEnv, readKeyFile } from '../auth/key-store.js'
import { DEFAULT_URL } from '../client/index.js'
import { currentContext } from './contexts.js'
import { isSameProcess } from '../exec/process-group.js'
import { readServerInfo } from '../update/server-info.js'

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1'])

/** Where the client commands connect and with which key. */
export interface Credentials {
  url: string
  apiKey: string | undefined
  /** Where the URL came from, for error messages: `--url`, `AGENT_RUNTIME_URL`, `context 'NAME'`, … */
  urlSource: string
  /** Where the key came from (`--key`, `AGENT_RUNTIME_API_KEY`, `context 'NAME'`, `the key file PATH`), or undefined when there is none. */
  keySource: string | undefined
}

/** The URL a client on this machine uses for a server that listens on `url` (wildcards mean this machine). */
export function connectableUrl (url: string): string {
  return url.replace('://0.0.0.0:', '://127.0.0.1:').replace('://[::]:', '://[::1]:')
}

/** The URL of the server running on this state directory (its `server.json`), if one runs. */
export function localServerUrl (stateDir: string): string | undefined {
  const info = readServerInfo(stateDir)
  return info && isSameProcess(info.pid, null) ? connectableUrl(info.url) : undefined
}

/**
 * `--url` / AGENT_RUNTIME_URL, else the current saved context (`agent-server login`), else the
 * server running on the local state directory (its
 * `server.json`, as `status` reads it), else http://127.0.0.1:8585; `--key` / AGENT_RUNTIME_API_KEY,
 * else, for a server on this machine, the key file of the local state directory.
 */
export function resolveCredentials (flags: { url?: string | undefined, key?: string | undefined }, env: NodeJS.ProcessEnv, stateDir: string): Credentials {
  const context = flags.url === undefined && !env.AGENT_RUNTIME_URL ? currentContext(env) : undefined
  const local = flags.url === undefined && !env.AGENT_RUNTIME_URL && context === undefined ? localServerUrl(stateDir) : undefined
  const [url, urlSource] = flags.url !== undefined
    ? [flags.url, '--url']
    : env.AGENT_RUNTIME_URL
      ? [env.AGENT_RUNTIME_URL, 'AGENT_RUNTIME_URL']
      : context !== undefined
        ? [context.url, `context '${context.name}'`]
        : local !== undefined ? [local, `the server.json of ${stateDir}`] : [DEFAULT_URL, 'the default']
  let host: string
  try { host = new URL(url).hostname } catch { throw new Error(`not a URL: ${url} (from ${urlSource})`) }
  const fromEnv = keyFromEnv(env)
  const fromFile = flags.key === undefined && !fromEnv && context?.key === undefined && LOCAL_HOSTS.has(host) ? readLocalKey(stateDir) : undefined
  const [apiKey, keySource] = flags.key !== undefined
    ? [flags.key, '--key']
    : fromEnv
      ? [fromEnv, 'AGENT_RUNTIME_API_KEY']
      : context?.key !== undefined
        ? [context.key, `context '${context.name}'`]
        : fromFile !== undefined ? [fromFile, `the key file of ${stateDir}`] : [undefined, undefined]
  return { url, apiKey, urlSource, keySource }
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
