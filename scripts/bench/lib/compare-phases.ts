import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { BenchClient } from './http-client.js'
import { measureCpu } from './proc.js'
import { percentile, round } from './stats.js'

const FINISHED = new Set(['completed', 'failed', 'timeout', 'cancelled'])
// How often a client polls a server that has no long-poll (devpilot).
const POLL_MS = 1

/** One server under comparison: ours long-polls with `wait`, devpilot is polled every millisecond. */
export interface Target {
  name: string
  port: number
  key: string
  /** Its pid when known (CPU shares), else null. */
  pid: number | null
  longPoll: boolean
  /** Submit and wait in one request (`POST /exec?wait`, ours only) instead of submit, then wait. */
  oneRequest?: boolean
}

interface Job { jobId: string, status: string }

/** Submits `true` and waits until it is observed finished (long-poll, or polling every 1 ms). */
async function completeTrue (client: BenchClient, target: Target): Promise<void> {
  if (target.oneRequest === true) {
    const job = await client.json<Job>('POST', '/exec?wait=10', { command: 'true' }, [200])
    if (job.status !== 'completed') throw new Error(`job ${job.jobId} ended ${job.status}`)
    return
  }
  const { jobId } = await client.json<Job>('POST', '/exec', { command: 'true' }, [202])
  for (;;) {
    const job = await client.json<Job>('GET', target.longPoll ? `/jobs/${jobId}?wait=10` : `/jobs/${jobId}`, undefined, [200])
    if (job.status === 'completed') return
    if (FINISHED.has(job.status)) throw new Error(`job ${jobId} ended ${job.status}`)
    if (!target.longPoll) await sleep(POLL_MS)
  }
}

const cpuOf = (target: Target): (() => { serverCpuPct: number | null }) => {
  if (target.pid === null) return () => ({ serverCpuPct: null })
  const cpu = measureCpu(target.pid)
  return () => ({ serverCpuPct: cpu().serverCpuPct })
}

/** Sequential submit → observed completion of `true`: p50/p90/p99 in ms. */
export async function latency (target: Target, warmup: number, iterations: number) {
  const client = new BenchClient(target.port, target.key, 1)
  try {
    for (let i = 0; i < warmup; i++) await completeTrue(client, target)
    const cpu = cpuOf(target)
    const totals: number[] = []
    for (let i = 0; i < iterations; i++) {
      const t0 = performance.now()
      await completeTrue(client, target)
      totals.push(performance.now() - t0)
    }
    return { iterations, p50Ms: round(percentile(totals, 50)), p90Ms: round(percentile(totals, 90)), p99Ms: round(percentile(totals, 99)), ...cpu() }
  } finally {
    client.close()
  }
}

/** `clients` loops of submit `true` + wait for `durationSec`: completed jobs/s. */
export async function throughput (target: Target, clients: number, durationSec: number) {
  const client = new BenchClient(target.port, target.key, clients)
  let completed = 0
  let errors = 0
  const cpu = cpuOf(target)
  const t0 = performance.now()
  const deadline = t0 + durationSec * 1000
  try {
    await Promise.all(Array.from({ length: clients }, async () => {
      while (performance.now() < deadline) {
        try {
          await completeTrue(client, target)
          completed++
        } catch {
          errors++
        }
      }
    }))
    return { clients, completed, errors, jobsPerSec: round(completed / ((performance.now() - t0) / 1000), 0), ...cpu() }
  } finally {
    client.close()
  }
}

/** GET `path` over `connections` keep-alive connections for `durationSec`: req/s. */
export async function gets (target: Pick<Target, 'port' | 'key'>, path: string, connections: number, durationSec: number) {
  const client = new BenchClient(target.port, target.key, connections)
  let ok = 0
  let errors = 0
  const t0 = performance.now()
  const deadline = t0 + durationSec * 1000
  try {
    await Promise.all(Array.from({ length: connections }, async () => {
      while (performance.now() < deadline) {
        try {
          if ((await client.send('GET', path)).status === 200) ok++
          else errors++
        } catch {
          errors++
        }
      }
    }))
    return { connections, errors, reqPerSec: round(ok / ((performance.now() - t0) / 1000), 0) }
  } finally {
    client.close()
  }
}

/**
 * GET req/s of `a` against `b` in `rounds` alternating rounds of `roundSec` each: each round's
 * ratio a/b, and their median. Why alternating: the same server's rate drifts by ±25 % within a
 * minute here, so one ratio of two phases taken apart is good to only ±15 points.
 */
export async function getsRatio (a: { target: Pick<Target, 'port' | 'key'>, path: string }, b: { target: Pick<Target, 'port' | 'key'>, path: string }, connections: number, rounds: number, roundSec: number) {
  const ratios: number[] = []
  const rates: Array<[number, number]> = []
  for (let i = 0; i < rounds; i++) {
    const ra = await gets(a.target, a.path, connections, roundSec)
    const rb = await gets(b.target, b.path, connections, roundSec)
    rates.push([ra.reqPerSec, rb.reqPerSec])
    ratios.push(ra.reqPerSec / Math.max(1, rb.reqPerSec))
  }
  return { rates, ratios: ratios.map((r) => round(r, 2)), median: round(percentile(ratios, 50), 2) }
}

/** A finished `echo hello` job's id on `target`, for the GET phase. */
export async function finishedJob (target: Target): Promise<string> {
  const client = new BenchClient(target.port, target.key, 1)
  try {
    const { jobId } = await client.json<Job>('POST', '/exec', { command: 'echo hello' }, [202])
    for (;;) {
      const job = await client.json<Job>('GET', `/jobs/${jobId}`, undefined, [200])
      if (FINISHED.has(job.status)) return jobId
      await sleep(5)
    }
  } finally {
    client.close()
  }
}

// GET /health round trips (ms) from one client of its own until `deadline`, from 200 ms on (once the load has built up).
async function healthRoundTrips (target: Target, deadline: number): Promise<number[]> {
  const client = new BenchClient(target.port, target.key, 1)
  const times: number[] = []
  try {
    await sleep(200)
    while (performance.now() < deadline) {
      const t0 = performance.now()
      await client.send('GET', '/health')
      times.push(performance.now() - t0)
    }
  } finally {
    client.close()
  }
  return times
}

/** GET /health round trips from one client while `clients` others flood `true` jobs: p50/p99 in ms. */
export async function healthUnderFlood (target: Target, clients: number, durationSec: number) {
  const flood = throughput(target, clients, durationSec)
  const times = await healthRoundTrips(target, performance.now() + durationSec * 1000)
  const f = await flood
  return { samples: times.length, p50Ms: round(percentile(times, 50)), p99Ms: round(percentile(times, 99)), floodJobsPerSec: f.jobsPerSec }
}

/**
 * GET /health round trips from one client while `true` jobs arrive at a fixed `rate` per second
 * (each submitted and long-polled to its end, however long that takes): p50/p99 in ms. Unlike the
 * flood, the load does not grow to fill whatever the server can do.
 */
export async function healthAtRate (target: Target, rate: number, durationSec: number) {
  const load = new BenchClient(target.port, target.key, 256)
  const jobs: Array<Promise<void>> = []
  let errors = 0
  const t0 = performance.now()
  const deadline = t0 + durationSec * 1000
  let submitted = 0
  const arrivals = (async () => {
    while (performance.now() < deadline) {
      const due = Math.floor((performance.now() - t0) * rate / 1000)
      for (; submitted < due; submitted++) jobs.push(completeTrue(load, target).catch(() => { errors++ }))
      await sleep(2)
    }
  })()
  let times: number[]
  try {
    times = await healthRoundTrips(target, deadline)
    await arrivals
    await Promise.all(jobs)
  } finally {
    load.close()
  }
  return { rate, jobs: submitted, errors, samples: times.length, p50Ms: round(percentile(times, 50)), p99Ms: round(percentile(times, 99)) }
}

// A Fastify hello-world answering every GET /jobs/:id with a constant job-shaped JSON: the ceiling for GET.
const HELLO_SCRIPT = `
const app = require('fastify')({ logger: false })
const job = { jobId: 'abcdef012345', status: 'completed', command: 'echo hello', workdir: '/tmp', submittedAt: 1, startedAt: 1, finishedAt: 1, lastOutputAt: 1, processAlive: false, pid: 1, exitCode: 0, signal: null, durationMs: 2, timedOut: false, stdout: 'hello\\n', stderr: '' }
app.get('/jobs/:id', async () => job)
app.listen({ host: '127.0.0.1', port: 0 }).then(() => process.stdout.write(app.server.address().port + '\\n'))
`

/** A reference server run as its own Node process; it prints its port on stdout. */
export interface ReferenceServer { port: number, pid: number, stop: () => Promise<void> }

async function startReference (args: readonly string[], cwd: string): Promise<ReferenceServer> {
  const child: ChildProcess = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] })
  // Why the race: a reference that dies before printing its port (python3 missing, say) must fail the run, not hang it.
  const exited = once(child, 'exit').then(([code]) => { throw new Error(`reference server ${args.join(' ').slice(0, 60)} exited (${String(code)}) before listening`) })
  const [chunk] = await Promise.race([once(child.stdout as NodeJS.ReadableStream, 'data'), exited]) as [Buffer]
  exited.catch(() => {})
  return {
    port: Number(chunk.toString().trim()),
    pid: child.pid as number,
    stop: async () => {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await once(child, 'exit')
    },
  }
}

/** Starts the hello-world ceiling server (from this project's node_modules). */
export function startHelloWorld (cwd: string): Promise<ReferenceServer> {
  return startReference(['-e', HELLO_SCRIPT], cwd)
}

/** Starts the bare exec server (lib/bare-exec-server.mjs): the floor of a job submitted and waited for in one request. */
export function startBareExec (cwd: string): Promise<ReferenceServer> {
  return startReference([join(dirname(fileURLToPath(import.meta.url)), 'bare-exec-server.mjs')], cwd)
}
