import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { BenchClient } from './http-client.js'
import { measureCpu, statusBytes, type CpuShare } from './proc.js'
import type { ServerProcess } from './server-process.js'
import { median, mib, percentile, round } from './stats.js'

export type { CpuShare }
import { runWrk } from './wrk.js'

const IDLE_SETTLE_MS = 250
const FINISHED = new Set(['completed', 'failed', 'timeout', 'cancelled'])

/** The fields of a job answer the benchmarks look at. */
export interface JobAnswer { jobId: string, status: string, stdoutBytes?: number }

/**
 * CPU use over one phase: the server process and this (load-generating) process in % of one core,
 * and the whole machine (server, load generator, job processes, kernel) in % of all cores.
 */

/** Submits `command` and long-polls until it has finished; `query` is added to each poll. */
export async function runJob (client: BenchClient, command: string, query = ''): Promise<JobAnswer> {
  const { jobId } = await client.json<JobAnswer>('POST', '/exec', { command }, [202])
  for (;;) {
    const job = await client.json<JobAnswer>('GET', `/jobs/${jobId}?wait=60${query}`, undefined, [200])
    if (FINISHED.has(job.status)) return job
  }
}

/**
 * 1. Start-up: spawn → /health 200, several times; RSS 250 ms after each start. The last server
 * then sits idle for `idleWatchSec` while its RSS is read every second: V8 gives back the young
 * generation that start-up filled only once it sees the process idle (its memory reducer).
 */
export async function measureStartup (launch: () => Promise<ServerProcess>, runs: number, idleWatchSec: number) {
  const readyMs: number[] = []
  const bannerMs: number[] = []
  const startRss: number[] = []
  const idleRss: number[] = []
  for (let i = 0; i < runs; i++) {
    const server = await launch()
    try {
      readyMs.push(server.readyMs)
      await sleep(IDLE_SETTLE_MS)
      bannerMs.push(server.bannerMs)
      startRss.push(statusBytes(server.pid, 'VmRSS') ?? Number.NaN)
      if (i === runs - 1) {
        for (let sec = 1; sec <= idleWatchSec; sec++) {
          await sleep(1000)
          idleRss.push(statusBytes(server.pid, 'VmRSS') ?? Number.NaN)
        }
      }
    } finally {
      await server.stop()
    }
  }
  const settledAt = idleRss.findIndex((rss, i) => idleRss.slice(i).every((later) => later === rss))
  return {
    runs,
    readyMs: readyMs.map((v) => round(v, 1)),
    readyMsMedian: round(median(readyMs), 1),
    bannerMsMedian: round(median(bannerMs), 1),
    startRssMiB: startRss.map(mib),
    startRssMiBMedian: mib(median(startRss)),
    idleWatchSec,
    idleRssMiB: idleRss.length > 0 ? mib(idleRss.at(-1) as number) : null,
    idleRssSettledAfterSec: settledAt === -1 ? null : settledAt + 1,
  }
}

/** 2. One client, sequential: POST /exec `true`, then GET /jobs/:id?wait=10 until it is finished. */
export async function measureLatency (server: ServerProcess, warmup: number, iterations: number) {
  const client = new BenchClient(server.port, server.key, 1)
  const once = async (): Promise<{ total: number, submit: number }> => {
    const t0 = performance.now()
    const { jobId } = await client.json<JobAnswer>('POST', '/exec', { command: 'true' }, [202])
    const submit = performance.now() - t0
    for (;;) {
      const job = await client.json<JobAnswer>('GET', `/jobs/${jobId}?wait=10`, undefined, [200])
      if (job.status === 'completed') return { total: performance.now() - t0, submit }
      if (FINISHED.has(job.status)) throw new Error(`job ${jobId} ended ${job.status}`)
    }
  }
  try {
    for (let i = 0; i < warmup; i++) await once()
    const cpu = measureCpu(server.pid)
    const totals: number[] = []
    const submits: number[] = []
    for (let i = 0; i < iterations; i++) {
      const { total, submit } = await once()
      totals.push(total)
      submits.push(submit)
    }
    return {
      iterations,
      p50Ms: round(percentile(totals, 50)),
      p90Ms: round(percentile(totals, 90)),
      p99Ms: round(percentile(totals, 99)),
      submitOnlyP50Ms: round(percentile(submits, 50)),
      ...cpu(),
    }
  } finally {
    client.close()
  }
}

/** 3. `clients` concurrent loops of submit `true` + wait, for `durationSec`. */
export async function measureThroughput (server: ServerProcess, clients: number, durationSec: number) {
  const client = new BenchClient(server.port, server.key, clients)
  let completed = 0
  let errors = 0
  const firstErrors: string[] = []
  const cpu = measureCpu(server.pid)
  const t0 = performance.now()
  const deadline = t0 + durationSec * 1000
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      try {
        const job = await runJob(client, 'true')
        if (job.status === 'completed') completed++
        else throw new Error(`job ended ${job.status}`)
      } catch (err) {
        errors++
        if (firstErrors.length < 3) firstErrors.push((err as Error).message)
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: clients }, worker))
    const seconds = (performance.now() - t0) / 1000
    return { clients, seconds: round(seconds), completed, errors, firstErrors, jobsPerSec: round(completed / seconds, 0), ...cpu() }
  } finally {
    client.close()
  }
}

/** 4. GET /jobs/:id of a finished small job over keep-alive: Node loops, and wrk when installed. */
export async function measureGets (server: ServerProcess, connections: number, durationSec: number, wrk: string | null) {
  const client = new BenchClient(server.port, server.key, connections)
  try {
    const { jobId } = await runJob(client, 'echo hello')
    const path = `/jobs/${jobId}`
    let ok = 0
    let errors = 0
    const cpu = measureCpu(server.pid)
    const t0 = performance.now()
    const deadline = t0 + durationSec * 1000
    const loop = async (): Promise<void> => {
      while (performance.now() < deadline) {
        try {
          if ((await client.send('GET', path)).status === 200) ok++
          else errors++
        } catch {
          errors++
        }
      }
    }
    await Promise.all(Array.from({ length: connections }, loop))
    const seconds = (performance.now() - t0) / 1000
    const node = { connections, requests: ok, errors, reqPerSec: round(ok / seconds, 0), ...cpu() }
    if (wrk === null) return { node, wrk: null }
    const wrkCpu = measureCpu(server.pid)
    const result = await runWrk(wrk, `http://127.0.0.1:${server.port}${path}`, server.key, connections, durationSec)
    const { serverCpuPct, machineBusyPct } = wrkCpu()
    return { node, wrk: { connections, ...result, requestsPerSec: round(result.requestsPerSec, 0), serverCpuPct, machineBusyPct } }
  } finally {
    client.close()
  }
}
