import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** The built CLI, as `npm run build` leaves it and users run it. */
export const BUILT_CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))

/** Runs `node dist/cli.js ARGS` to completion (run `npm run build` first), as another user with `as`, and returns what it printed. */
export async function runBuiltCli (args: string[], env: NodeJS.ProcessEnv = {}, as: { uid?: number, gid?: number } = {}): Promise<{ code: number | null, stdout: string, stderr: string }> {
  if (!existsSync(BUILT_CLI)) throw new Error(`${BUILT_CLI} is missing: run npm run build first`)
  const child = spawn(process.execPath, [BUILT_CLI, ...args], {
    env: { ...process.env, AGENT_RUNTIME_API_KEY: '', AGENT_RUNTIME_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...as,
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const [code] = await once(child, 'exit') as [number | null]
  return { code, stdout, stderr }
}
