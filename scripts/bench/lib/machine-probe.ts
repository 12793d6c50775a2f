import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { closeSync, mkdirSync, openSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { machineCpuTicks } from './proc.js'
import { median, round } from './stats.js'

const PROBE_RUNS = 200
const QUIET_BUSY_PCT = 15

/** Share of all cores that was busy over `ms` (whatever runs on the machine). */
export async function machineBusyPct (ms: number): Promise<number> {
  const before = machineCpuTicks()
  await sleep(ms)
  const after = machineCpuTicks()
  return round(((after.busy - before.busy) / Math.max(1, after.total - before.total)) * 100, 0)
}

/** Waits up to `maxWaitMs` for a second in which the machine is nearly idle; returns the last busy share seen. */
export async function waitForQuiet (maxWaitMs: number): Promise<number> {
  const deadline = performance.now() + maxWaitMs
  for (;;) {
    const busy = await machineBusyPct(1000)
    if (busy <= QUIET_BUSY_PCT || performance.now() >= deadline) return busy
  }
}

/**
 * What the machine itself costs per job, outside the server: creating a job folder with two empty
 * files in `dir` (the server does this on its event loop), and a bare Node spawn of
 * `/bin/sh -c true` until its exit (a job needs at least this, its wrapper needs more).
 * Remove `dir` only at the very end: on ext4, freshly deleted inodes slow down later creates.
 */
export async function probeMachine (dir: string): Promise<{ mkdirAndTwoFilesP50Ms: number, spawnShToExitP50Ms: number }> {
  const create: number[] = []
  for (let i = 0; i < PROBE_RUNS; i++) {
    const t0 = performance.now()
    mkdirSync(join(dir, String(i)), { mode: 0o700 })
    closeSync(openSync(join(dir, String(i), 'stdout'), 'a'))
    closeSync(openSync(join(dir, String(i), 'stderr'), 'a'))
    create.push(performance.now() - t0)
  }
  const spawnMs: number[] = []
  for (let i = 0; i < PROBE_RUNS; i++) {
    const t0 = performance.now()
    const child = spawn('/bin/sh', ['-c', 'true'], { detached: true, stdio: 'ignore' })
    await once(child, 'exit')
    spawnMs.push(performance.now() - t0)
  }
  return { mkdirAndTwoFilesP50Ms: round(median(create), 3), spawnShToExitP50Ms: round(median(spawnMs), 3) }
}
