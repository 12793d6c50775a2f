// A/B of two builds on the job path, alternating in one run: sequential latency of `true` and
// GET /health round trips while 32 clients flood `true` jobs, with the machine's busy share and
// the server's CPU time per sequential job (user + system, all its threads).
// Usage: tsx scripts/bench/exec-ab.ts CLI_A CLI_B   (knobs: AB_ROUNDS 3, AB_FLOOD_SEC 8, AB_LATENCY 200)
import { setTimeout as sleep } from 'node:timers/promises'
import { healthUnderFlood, latency, type Target } from './lib/compare-phases.js'
import { cpuSeconds, machineCpuTicks } from './lib/proc.js'
import { startServer, stopAllServers } from './lib/server-process.js'
import { round } from './lib/stats.js'

const [cliA, cliB] = process.argv.slice(2)
if (!cliA) throw new Error('usage: exec-ab.ts CLI_A CLI_B')
const ROUNDS = Number(process.env.AB_ROUNDS ?? 3)
const FLOOD_SEC = Number(process.env.AB_FLOOD_SEC ?? 8)
const LATENCY_N = Number(process.env.AB_LATENCY ?? 200)
const NODE_ARGS = process.env.AB_NODE_ARGS?.split(' ').filter(Boolean) ?? []
const PHASES = new Set((process.env.AB_PHASES ?? 'latency,flood').split(','))
const LOAD_FLAGS = ['--max-concurrent-jobs', '64', '--max-pending-jobs', '10000']

async function busy<T> (f: () => Promise<T>): Promise<[T, number]> {
  const a = machineCpuTicks()
  const r = await f()
  const b = machineCpuTicks()
  return [r, round(100 * (b.busy - a.busy) / Math.max(1, b.total - a.total), 0)]
}

async function one (label: string, cli: string): Promise<void> {
  const s = await startServer(cli, LOAD_FLAGS, NODE_ARGS)
  const t: Target = { name: label, port: s.port, key: s.key, pid: s.pid, longPoll: true }
  try {
    const out: Record<string, unknown> = { label, pid: s.pid }
    if (PHASES.has('latency')) {
      const cpuBefore = cpuSeconds(s.pid)
      const [lo, lb] = await busy(() => latency(t, 20, LATENCY_N))
      const cpuAfter = cpuSeconds(s.pid)
      // Why: CPU time per job barely depends on how busy the machine is, unlike the latency.
      const cpuMsPerJob = cpuBefore === null || cpuAfter === null ? null : round(1000 * (cpuAfter - cpuBefore) / (LATENCY_N + 20), 2)
      out.latency = { p50: lo.p50Ms, p90: lo.p90Ms, p99: lo.p99Ms, cpu: lo.serverCpuPct, cpuMsPerJob, busy: lb }
      await sleep(1000)
    }
    if (PHASES.has('flood')) {
      const [h, hb] = await busy(() => healthUnderFlood(t, 32, FLOOD_SEC))
      out.flood = { p50: h.p50Ms, p99: h.p99Ms, n: h.samples, jobsPerSec: h.floodJobsPerSec, busy: hb }
    }
    process.stdout.write(JSON.stringify(out) + '\n')
  } finally {
    await s.stop()
  }
}

try {
  for (let r = 0; r < ROUNDS; r++) {
    const order: Array<[string, string | undefined]> = r % 2 === 0 ? [['A', cliA], ['B', cliB]] : [['B', cliB], ['A', cliA]]
    for (const [label, cli] of order) if (cli) await one(label, cli)
  }
} finally {
  await stopAllServers()
}
