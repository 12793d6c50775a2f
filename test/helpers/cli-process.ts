import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { waitFor } from './wait.js'

export const CLI_PATH = fileURLToPath(new URL('../../src/cli.ts', import.meta.url))

/** What a finished CLI run printed, and its exit code. */
export interface CliRun { code: number | null, stdout: string, stderr: string }

/** Runs `node NODE_ARGS` to completion with `env` over this process's, as user `as`, and returns what it printed. */
export async function runNode (nodeArgs: string[], env: NodeJS.ProcessEnv, as: { uid?: number, gid?: number } = {}): Promise<CliRun> {
  const child = spawn(process.execPath, nodeArgs, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], ...as })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const [code] = await once(child, 'exit') as [number | null]
  return { code, stdout, stderr }
}

/** Runs `agent-server ARGS` (through tsx) to completion and returns what it printed. */
export async function runCli (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return await runNode(['--import', 'tsx', CLI_PATH, ...args], { AGENT_RUNTIME_API_KEY: '', ...env })
}

/** A server running as its own process, as users run it. */
export interface ServerProcess {
  child: ChildProcess
  url: string
  key: string
  output: () => string
  /** Peak resident memory of the server process, in bytes (Linux). */
  peakRss: () => number
  rss: () => number
  stop: (signal?: NodeJS.Signals) => Promise<number | null>
}

function statusField (pid: number, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(match?.[1] ?? 0) * 1024
}

/** Starts `agent-server --port 0 --state-dir DIR ARGS` and waits until it listens. */
export async function spawnServer (stateDir: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> {
  const key = 'proc-key-' + Math.random().toString(36).slice(2)
  const child = spawn(process.execPath, ['--import', 'tsx', CLI_PATH, '--port', '0', '--state-dir', stateDir, '--log-level', 'info', ...args], {
    env: { ...process.env, AGENT_RUNTIME_API_KEY: key, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (d: Buffer) => { output += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { output += d.toString() })
  const exited = once(child, 'exit')
  const url = await waitFor(() => {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${output}`)
    return /listening on (https?:\/\/\S+)/.exec(output)?.[1]
  }, 'the server to listen', 30_000)
  const pid = child.pid as number
  return {
    child,
    url,
    key,
    output: () => output,
    peakRss: () => statusField(pid, 'VmHWM'),
    rss: () => statusField(pid, 'VmRSS'),
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      const [code] = await exited as [number | null]
      return code
    },
  }
}

/** Sends an authenticated JSON request to a server process. */
export async function call (server: Pick<ServerProcess, 'url' | 'key'>, method: string, path: string, body?: unknown): Promise<any> {
  const response = await fetch(server.url + path, {
    method,
    headers: { 'x-api-key': server.key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return { status: response.status, body: await response.json() }
}
