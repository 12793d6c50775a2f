import { fileURLToPath } from 'node:url'
import { ConfigError, DEFAULTS, loadConfig, resolveStateDir } from '../../config.js'
import { painter } from '../colour.js'
import type { CommandIo } from '../io.js'
import { result, type CheckResult } from './check.js'
import { checkClock, checkPort, checkPrograms, checkShells } from './host-checks.js'
import { checkLauncher, checkNode, checkPty, checkSqlite } from './runtime-checks.js'
import { checkKeyFile, checkStateDir } from './state-checks.js'
import { checkUpdateSource } from './update-check.js'

/** The flags of `agent-server doctor`: the settings of the server it checks for. */
export interface DoctorOptions {
  stateDir?: string | undefined
  port?: string | undefined
  host?: string | undefined
  json?: boolean | undefined
}

/** Every check, in the order printed; the server settings come from the flags and env as a start would read them. */
export async function runChecks (options: DoctorOptions, env: NodeJS.ProcessEnv): Promise<CheckResult[]> {
  const lines: CheckResult[] = [checkNode()]
  let settings = { stateDir: resolveStateDir(options.stateDir, env), port: DEFAULTS.port as number, host: DEFAULTS.host as string, tls: false, tunnel: null as string | null }
  try {
    const config = loadConfig({ stateDir: options.stateDir, port: options.port, host: options.host }, env)
    settings = { stateDir: config.stateDir, port: config.port, host: config.host, tls: config.tls !== null, tunnel: config.fleet.tunnel }
    lines.push(result('settings', 'ok', `flags and AGENT_RUNTIME_* variables are valid (${settings.host}:${settings.port}, ${settings.stateDir})`))
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    lines.push(result('settings', 'fail', err.message, 'fix the flag or the AGENT_RUNTIME_* variable named'))
  }
  lines.push(await checkSqlite(), await checkPty(), checkLauncher(env))
  lines.push(checkStateDir(settings.stateDir), checkKeyFile(settings.stateDir, env))
  lines.push(await checkPort(settings.host, settings.port, settings.stateDir, settings.tls))
  lines.push(...checkShells(env.PATH), ...checkPrograms(env.PATH, settings.tunnel))
  lines.push(checkClock(fileURLToPath(import.meta.url)), checkUpdateSource(env))
  return lines
}

/** The lines as a person reads them: status, name, what was found, and the fix under it. */
export function formatChecks (lines: readonly CheckResult[], paint: ReturnType<typeof painter>): string {
  const width = Math.max(...lines.map((line) => line.name.length))
  const colour = { ok: 'green', warn: 'yellow', fail: 'red' } as const
  const text = lines.map((line) => {
    const head = `${paint(colour[line.status], line.status.padEnd(4))}  ${line.name.padEnd(width)}  ${line.detail}`
    return line.fix === undefined ? head : `${head}\n${' '.repeat(width + 8)}${paint('dim', `fix: ${line.fix}`)}`
  })
  const count = (status: string): number => lines.filter((line) => line.status === status).length
  const fails = count('fail')
  const warns = count('warn')
  text.push(fails + warns === 0 ? 'all checks passed' : `${fails} failure${fails === 1 ? '' : 's'}, ${warns} warning${warns === 1 ? '' : 's'}`)
  return text.join('\n') + '\n'
}

/** `agent-server doctor`: checks this machine for running the server; exit 1 when any check fails. */
export async function runDoctor (options: DoctorOptions, env: NodeJS.ProcessEnv, io: CommandIo): Promise<number> {
  const lines = await runChecks(options, env)
  const ok = lines.every((line) => line.status !== 'fail')
  io.stdout.write(options.json === true ? JSON.stringify({ ok, checks: lines }, null, 2) + '\n' : formatChecks(lines, painter(io.stdout, env)))
  return ok ? 0 : 1
}
