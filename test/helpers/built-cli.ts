import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { runNode, type CliRun } from './cli-process.js'

/** The built CLI, as `npm run build` leaves it and users run it. */
export const BUILT_CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))

/** Runs `node dist/cli.js ARGS` to completion (run `npm run build` first), as another user with `as`, and returns what it printed. */
export async function runBuiltCli (args: string[], env: NodeJS.ProcessEnv = {}, as: { uid?: number, gid?: number } = {}): Promise<CliRun> {
  if (!existsSync(BUILT_CLI)) throw new Error(`${BUILT_CLI} is missing: run npm run build first`)
  return await runNode([BUILT_CLI, ...args], { AGENT_RUNTIME_API_KEY: '', AGENT_RUNTIME_URL: '', ...env }, as)
}
