import type { Config } from '../config.js'
import type { Logger } from '../logger.js'
import { resolveKey } from '../auth/key-store.js'
import { VERSION } from '../version.js'
import { Fleet } from './fleet.js'
import { FLEET_OWNER_ENV } from './owner.js'

/** True when `--tunnel` or `--register` asks for fleet pieces and no wrapper above runs them already. */
export function wantsFleet (config: Config, env: NodeJS.ProcessEnv = process.env): boolean {
  return (config.fleet.tunnel !== null || config.fleet.register !== null) && env[FLEET_OWNER_ENV] !== 'wrapper'
}

/** Starts the fleet pieces of this process for a server on `localUrl` (tunnel first, then the rest). */
export async function startFleet (config: Config, localUrl: string, log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<Fleet> {
  const port = Number(new URL(localUrl).port)
  return await Fleet.start({
    fleet: config.fleet,
    port,
    terminalPort: config.terminalPort?.port,
    localUrl,
    stateDir: config.stateDir,
    version: VERSION,
    apiKey: () => resolveKey(config.stateDir, env).key,
    env,
    print: (text) => process.stderr.write(text),
    log,
  })
}

/** In the wrapper: the child server must leave the fleet to the wrapper (it owns the tunnel across updates). */
export function markWrapperOwnsFleet (env: NodeJS.ProcessEnv = process.env): void {
  env[FLEET_OWNER_ENV] = 'wrapper'
}
