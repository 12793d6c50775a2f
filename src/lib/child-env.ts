import { KEY_ENV_VARS } from '../auth/key-store.js'

// Variables that hold secrets of the server and never reach a child process.
const SECRET_ENV_VARS: readonly string[] = [...KEY_ENV_VARS, 'DEVPILOT_TUNNEL_TOKEN']

/** The environment for a child: the server's own, overlaid with `overlay`, minus every secret. */
export function childEnv (overlay: Readonly<Record<string, string>> = {}, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, ...overlay }
  for (const name of SECRET_ENV_VARS) delete env[name]
  return env
}
