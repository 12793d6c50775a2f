import { SECRET_ENV_VARS } from './secret-env.js'

/** A copy of `env` without the variables that hold the server's secrets. */
export function withoutSecrets<T extends Readonly<Record<string, string | undefined>>> (env: T): T {
  if (!SECRET_ENV_VARS.some((name) => name in env)) return env
  const copy: Record<string, string | undefined> = { ...env }
  for (const name of SECRET_ENV_VARS) delete copy[name]
  return copy as T
}

/** The environment for a child: the server's own, overlaid with `overlay`, minus every secret. */
export function childEnv (overlay: Readonly<Record<string, string>> = {}, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return withoutSecrets({ ...base, ...overlay })
}
