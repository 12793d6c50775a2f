import { accessSync, constants, existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { LAUNCHER_BINARY } from '../../exec/job-starter.js'
import { guarded, result, type CheckResult } from './check.js'

// How long the node-pty probe may take to start and end `/bin/sh -c exit`.
const PTY_PROBE_MS = 5000
const require = createRequire(import.meta.url)

/** The package's name and `engines.node` (package.json sits above both src/ and dist/). */
export function packageJson (): { name: string, version: string, engines?: { node?: string } } {
  return JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { name: string, version: string, engines?: { node?: string } }
}

const parts = (version: string): number[] => version.replace(/^v/, '').split('.').map((part) => Number.parseInt(part, 10) || 0)

/** True when `version` satisfies a `>=X.Y[.Z]` range (the only form package.json uses). */
export function satisfiesMinimum (version: string, range: string): boolean {
  const minimum = /^\s*>=\s*v?([\d.]+)\s*$/.exec(range)?.[1]
  if (minimum === undefined) return true
  const have = parts(version)
  const want = parts(minimum)
  for (let i = 0; i < 3; i++) {
    if ((have[i] ?? 0) !== (want[i] ?? 0)) return (have[i] ?? 0) > (want[i] ?? 0)
  }
  return true
}

/** Node's version against package.json's engines. */
export function checkNode (version = process.versions.node): CheckResult {
  const range = packageJson().engines?.node ?? '>=20.19'
  if (!satisfiesMinimum(version, range)) return result('node', 'fail', `Node ${version} is older than the required ${range}`, `install Node ${range.replace('>=', '')} or newer (22 LTS recommended)`)
  return result('node', 'ok', `Node ${version} (needs ${range})`)
}

/** better-sqlite3 loads and answers a query (the job store). */
export async function checkSqlite (): Promise<CheckResult> {
  return guarded('better-sqlite3', () => {
    const Database = require('better-sqlite3') as new (file: string) => { prepare: (sql: string) => { get: () => unknown }, close: () => void }
    const db = new Database(':memory:')
    try {
      const row = db.prepare('select sqlite_version() as v').get() as { v: string }
      return result('better-sqlite3', 'ok', `loads (SQLite ${row.v})`)
    } finally {
      db.close()
    }
  }, 'rebuild it for this Node: npm_config_nodedir=/usr npm rebuild better-sqlite3 (needs python3, make and a C++ compiler)')
}

/** node-pty loads and runs a short program in a pseudo-terminal (terminals, attach). */
export async function checkPty (): Promise<CheckResult> {
  return guarded('node-pty', async () => {
    const pty = await import('node-pty')
    const child = pty.spawn('/bin/sh', ['-c', 'exit 7'], { cols: 80, rows: 24 })
    let timer: NodeJS.Timeout | undefined
    const code = await Promise.race([
      new Promise<number>((resolve) => child.onExit(({ exitCode }) => resolve(exitCode))),
      new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`a pseudo-terminal did not end within ${PTY_PROBE_MS} ms`)) }, PTY_PROBE_MS) }),
    ]).finally(() => clearTimeout(timer))
    if (code !== 7) return result('node-pty', 'fail', `a program in a pseudo-terminal exited ${code}, not 7`, 'rebuild it: npm_config_nodedir=/usr npm rebuild node-pty')
    return result('node-pty', 'ok', 'loads and runs a program in a pseudo-terminal')
  }, 'rebuild it for this Node: npm_config_nodedir=/usr npm rebuild node-pty (needs python3, make and a C++ compiler)')
}

/** The job launcher binary (native/launcher): built and executable, or deliberately off. */
export function checkLauncher (env: NodeJS.ProcessEnv): CheckResult {
  const setting = env.AGENT_RUNTIME_LAUNCHER
  if (setting === 'off') return result('launcher', 'warn', 'off (AGENT_RUNTIME_LAUNCHER=off): jobs start through Node\'s spawn, which pauses the server for several ms per job', 'unset AGENT_RUNTIME_LAUNCHER to use the launcher')
  const binary = setting ?? LAUNCHER_BINARY
  if (!existsSync(binary)) return result('launcher', 'warn', `not built (${binary}): jobs start through Node's spawn, which pauses the server for several ms per job`, 'npm run build:launcher (needs a C compiler)')
  try {
    accessSync(binary, constants.X_OK)
  } catch {
    return result('launcher', 'fail', `${binary} is not executable`, `chmod 755 ${binary}`)
  }
  return result('launcher', 'ok', binary)
}
