import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { healthOk } from './http-client.js'
import { processesMatching } from '../../../test/helpers/processes.js'

const READY_TIMEOUT_MS = 15_000
const HEALTH_POLL_MS = 2
const STOP_TIMEOUT_MS = 15_000

/** A server started as its own process (`node dist/cli.js`) with a temp state directory. */
export interface ServerProcess {
  pid: number
  port: number
  key: string
  stateDir: string
  /** Milliseconds from spawn until GET /health answered 200. */
  readyMs: number
  /** Milliseconds from spawn until the "listening" banner appeared on stderr (NaN until it has). */
  readonly bannerMs: number
  stop: () => Promise<void>
}

const live = new Set<ServerProcess>()

async function freePort (): Promise<number> {
  const probe = createServer()
  probe.listen(0, '127.0.0.1')
  await once(probe, 'listening')
  const address = probe.address()
  probe.close()
  if (typeof address !== 'object' || address === null) throw new Error('no free port')
  return address.port
}

async function waitExit (child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true
  const timer = sleep(timeoutMs).then(() => false)
  return Promise.race([once(child, 'exit').then(() => true), timer])
}

/** Starts a server with extra CLI `args` (and Node flags, e.g. --cpu-prof); resolves once /health answers 200. */
export async function startServer (cliPath: string, args: readonly string[] = [], nodeArgs: readonly string[] = []): Promise<ServerProcess> {
  const stateDir = mkdtempSync(join(tmpdir(), 'agent-runtime-bench-'))
  const key = randomBytes(24).toString('base64url')
  const port = await freePort()
  let stderr = ''
  let bannerMs = Number.NaN
  const t0 = performance.now()
  const child = spawn(process.execPath, [...nodeArgs, cliPath, '--port', String(port), '--state-dir', stateDir, '--log-level', 'warn', ...args], {
    env: { ...process.env, AGENT_RUNTIME_API_KEY: key },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    if (Number.isNaN(bannerMs) && (stderr + text).includes(' listening on ')) bannerMs = performance.now() - t0
    if (stderr.length < 64 * 1024) stderr += text
  })
  let stopped: Promise<void> | undefined
  const server: ServerProcess = {
    pid: child.pid ?? -1,
    port,
    key,
    stateDir,
    readyMs: Number.NaN,
    get bannerMs () { return bannerMs },
    stop: () => {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
        if (!await waitExit(child, STOP_TIMEOUT_MS)) {
          child.kill('SIGKILL')
          await waitExit(child, STOP_TIMEOUT_MS)
        }
        // Why: jobs are detached and may outlive a killed server; their command lines name the state dir.
        for (const pid of processesMatching(stateDir)) {
          try { process.kill(pid, 'SIGKILL') } catch { /* already gone */ }
        }
        rmSync(stateDir, { recursive: true, force: true })
        live.delete(server)
      })()
      return stopped
    },
  }
  live.add(server)
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`server exited early:\n${stderr}`)
      if (await healthOk(port)) break
      if (performance.now() - t0 > READY_TIMEOUT_MS) throw new Error(`server not ready after ${READY_TIMEOUT_MS} ms:\n${stderr}`)
      await sleep(HEALTH_POLL_MS)
    }
    server.readyMs = performance.now() - t0
  } catch (err) {
    await server.stop()
    throw err
  }
  return server
}

/** Stops every server this process started that is still running (clean-up on error or interrupt). */
export async function stopAllServers (): Promise<void> {
  await Promise.allSettled([...live].map(async (server) => server.stop()))
}

/** The newest modification time of any file below `dir` (to tell whether dist/ is older than src/). */
/**
 * Runs a benchmark's `main`: Ctrl-C or SIGTERM stops every server it started (exit 130), a failure
 * is printed with its stack (exit code 1), and the servers are stopped at the end either way.
 */
export async function runBench (main: () => Promise<void>): Promise<void> {
  const say = (message: string): void => { process.stderr.write(`bench: ${message}\n`) }
  let interrupted = false
  const interrupt = (): void => {
    if (interrupted) return
    interrupted = true
    say('interrupted: stopping servers')
    stopAllServers().finally(() => process.exit(130))
  }
  process.once('SIGINT', interrupt)
  process.once('SIGTERM', interrupt)
  try {
    await main()
  } catch (err) {
    say(`failed: ${(err as Error).stack ?? String(err)}`)
    process.exitCode = 1
  } finally {
    await stopAllServers()
  }
}

export function newestMtimeMs (dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtimeMs(path) : statSync(path).mtimeMs)
  }
  return newest
}
