// Ways to start a job's process, measured side by side in one run (issue 10): for each, the time
// the start call holds the event loop, start → exit of `true` (sequential), and jobs/s with 8 in
// flight together with the event loop's delay p99 meanwhile. Run: npm run bench:spawn.
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { Worker } from 'node:worker_threads'
import { jobFiles, type JobFiles } from '../../src/exec/job-files.js'
import { JobProcess } from '../../src/exec/job-process.js'
import { LAUNCHER_BINARY } from '../../src/exec/job-starter.js'
import { Launcher } from '../../src/exec/launcher.js'
import { createLogger } from '../../src/logger.js'
import { measureSpawnFloor } from './lib/spawn-floor.js'
import { percentile, round } from './lib/stats.js'

const SEQUENTIAL = Number(process.env.BENCH_SPAWN_ITERATIONS ?? 200)
const CONCURRENT_MS = Number(process.env.BENCH_SPAWN_CONCURRENT_MS ?? 3000)
const IN_FLIGHT = 8

type Start = (files: JobFiles) => { sync: number, done: Promise<unknown> }

const stateDir = mkdtempSync(join(tmpdir(), 'bench-spawn-'))
let next = 0
const newFiles = (): JobFiles => {
  const files = jobFiles(stateDir, String(next++))
  mkdirSync(files.dir, { recursive: true })
  return files
}
const env = { PATH: process.env.PATH }
const timed = (fn: () => Promise<unknown>): { sync: number, done: Promise<unknown> } => {
  const t0 = performance.now()
  const done = fn()
  return { sync: performance.now() - t0, done }
}

// Today's path without the launcher: Node's spawn of the wrapper shell, which runs the command's shell.
const nodeWrapper: Start = (files) => timed(async () => (await JobProcess.start({ files, command: 'true', shell: '/bin/sh', cwd: stateDir, env, stdin: 'ignore' })).exited)

// One shell per job: the command runs in the shell that records its status in an EXIT trap.
const exitTrap: Start = (files) => timed(() => new Promise((resolve) => {
  const child = spawn('/bin/sh', ['-c', 'trap \'echo $? > "$0"\' EXIT; true', files.exit], { detached: true, stdio: 'ignore', cwd: stateDir, env })
  child.once('exit', resolve)
}))

// Node's spawn of the wrapper from a worker thread: frees the event loop, still forks all of Node.
const worker = new Worker(`
  const { parentPort } = require('node:worker_threads')
  const { spawn } = require('node:child_process')
  parentPort.on('message', ({ id, exit, stdout, stderr, cwd, env }) => {
    const child = spawn('/bin/sh', ['-c', 'command exec >>"$4" 3>>"$5" || exit 125; (exec /bin/sh -c true 2>&3 3>&-); s=$?; echo "$s" > "$3"; exit "$s"', 'j', '', '', exit, stdout, stderr], { detached: true, stdio: 'ignore', cwd, env })
    child.once('exit', () => parentPort.postMessage(id))
  })
`, { eval: true })
const workerWaiting = new Map<number, () => void>()
worker.on('message', (id: number) => { workerWaiting.get(id)?.(); workerWaiting.delete(id) })
let workerNext = 0
const workerThread: Start = (files) => timed(() => new Promise<void>((resolve) => {
  const id = workerNext++
  workerWaiting.set(id, resolve)
  worker.postMessage({ id, exit: files.exit, stdout: files.stdout, stderr: files.stderr, cwd: stateDir, env })
}))

const launcher = new Launcher(process.env.AGENT_RUNTIME_LAUNCHER ?? LAUNCHER_BINARY, createLogger('silent', false), () => Promise.reject(new Error('launcher failed')))
const viaLauncher: Start = (files) => timed(async () => (await launcher.start({ files, command: 'true', shell: '/bin/sh', cwd: stateDir, env, stdin: 'ignore' })).exited)

async function measure (name: string, start: Start): Promise<Record<string, unknown>> {
  for (let i = 0; i < 10; i++) await start(newFiles()).done
  const syncs: number[] = []
  const totals: number[] = []
  for (let i = 0; i < SEQUENTIAL; i++) {
    const t0 = performance.now()
    const { sync, done } = start(newFiles())
    await done
    syncs.push(sync)
    totals.push(performance.now() - t0)
  }
  const delay = monitorEventLoopDelay({ resolution: 1 })
  delay.enable()
  let completed = 0
  const deadline = performance.now() + CONCURRENT_MS
  const t0 = performance.now()
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (performance.now() < deadline) {
      await start(newFiles()).done
      completed++
    }
  }))
  delay.disable()
  return {
    name,
    loopHeldP50Ms: round(percentile(syncs, 50), 3),
    startToExitP50Ms: round(percentile(totals, 50)),
    startToExitP90Ms: round(percentile(totals, 90)),
    jobsPerSec8InFlight: Math.round(completed / ((performance.now() - t0) / 1000)),
    loopDelayP99Ms: round(delay.percentile(99) / 1e6),
  }
}

try {
  const floor = measureSpawnFloor(SEQUENTIAL)
  const results = [
    await measure('Node spawn + wrapper shell (two shells; the fallback)', nodeWrapper),
    await measure('Node spawn, one shell with an EXIT trap', exitTrap),
    await measure('worker thread: Node spawn + wrapper shell', workerThread),
    await measure('launcher: recorder fork + one shell', viaLauncher),
  ]
  process.stdout.write('| start path | event loop held per start, p50 | start → exit of `true`, p50 / p90 | jobs/s, 8 in flight | event-loop delay p99 meanwhile |\n|---|---|---|---|---|\n')
  for (const r of results) {
    process.stdout.write(`| ${String(r.name)} | ${String(r.loopHeldP50Ms)} ms | ${String(r.startToExitP50Ms)} / ${String(r.startToExitP90Ms)} ms | ${String(r.jobsPerSec8InFlight)} | ${String(r.loopDelayP99Ms)} ms |\n`)
  }
  process.stdout.write(`| floor: python3 os.posix_spawn sh -c true | — | ${floor ? `${floor.p50Ms} / ${floor.p90Ms} ms` : 'python3 missing'} | — | — |\n\n`)
  process.stdout.write(`${JSON.stringify({ bench: 'spawn-alternatives', date: new Date().toISOString(), floor, results })}\n`)
} finally {
  launcher.close()
  await worker.terminate()
  rmSync(stateDir, { recursive: true, force: true })
}
