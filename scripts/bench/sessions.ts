// Persistent-shell benchmark: what a command costs in a warm session against a fresh shell job,
// measured in the same run on the same server (node dist/cli.js as its own process).
// (1) Latency: one client, sequential, alternating: `true` in a warm bash session, then `true` as
// a shell job; each is POST /exec → GET /jobs/:id?wait until completed. Target: session p50 ≤ 0.3×
// the job's p50. (2) Throughput: 8 clients, each looping `true` in its own session for
// BENCH_DURATION_SEC; then the same with 8 clients submitting shell jobs, for comparison.
// Knobs: BENCH_SESSION_ITERATIONS (200), BENCH_DURATION_SEC (5), BENCH_CLI, BENCH_SERVER_NODE_ARGS.
// Run: npm run build && npm run bench:sessions. Prints a markdown table, then one JSON line.
import { existsSync, statSync } from 'node:fs'
import { availableParallelism, loadavg, release } from 'node:os'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { BenchClient } from './lib/http-client.js'
import { waitForQuiet } from './lib/machine-probe.js'
import { measureCpu } from './lib/proc.js'
import { newestMtimeMs, runBench, startServer } from './lib/server-process.js'
import { median, percentile, round } from './lib/stats.js'
import { table, type Row } from './lib/report.js'

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..')
const CLI_PATH = resolve(process.env.BENCH_CLI ?? join(ROOT, 'dist', 'cli.js'))
// Why: lets a run profile the server, e.g. BENCH_SERVER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'.
const SERVER_NODE_ARGS = process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? []
const ITERATIONS = Number(process.env.BENCH_SESSION_ITERATIONS ?? 200)
const DURATION_MS = Number(process.env.BENCH_DURATION_SEC ?? 5) * 1000
const WARMUP = 20
const PARALLEL = 8
const QUIET_WAIT_MS = 20_000
const TARGET_RATIO = 0.3
const FINISHED = new Set(['completed', 'failed', 'timeout', 'cancelled'])

const log = (message: string): void => { process.stderr.write(`bench: ${message}\n`) }

/** Submits one command (a session's when `sessionKey` is given) and long-polls until it completed; the wall time in ms. */
async function runOnce (client: BenchClient, sessionKey: string | null): Promise<number> {
  const start = performance.now()
  const body = sessionKey === null ? { command: 'true' } : { mode: 'persistent_shell', sessionKey, shell: 'bash', command: 'true' }
  const { jobId } = await client.json<{ jobId: string }>('POST', '/exec', body, [202])
  for (;;) {
    const job = await client.json<{ status: string, error?: string }>('GET', `/jobs/${jobId}?wait=60&tailLines=0`, undefined, [200])
    if (FINISHED.has(job.status)) {
      if (job.status !== 'completed') throw new Error(`${sessionKey === null ? 'job' : 'session command'} ended ${job.status}: ${job.error ?? ''}`)
      return performance.now() - start
    }
  }
}

/** PARALLEL clients looping for DURATION_MS; commands completed per second. */
async function throughput (client: BenchClient, sessions: boolean): Promise<number> {
  const deadline = performance.now() + DURATION_MS
  let done = 0
  const t0 = performance.now()
  await Promise.all(Array.from({ length: PARALLEL }, async (_, i) => {
    while (performance.now() < deadline) {
      await runOnce(client, sessions ? `par-${i}` : null)
      done++
    }
  }))
  return round(done / ((performance.now() - t0) / 1000), 1)
}

const stats = (values: number[]): { p50: number, p90: number, p99: number } =>
  ({ p50: round(median(values), 3), p90: round(percentile(values, 90), 3), p99: round(percentile(values, 99), 3) })

async function main (): Promise<void> {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first`)
  if (process.env.BENCH_CLI === undefined && newestMtimeMs(join(ROOT, 'src')) > statSync(CLI_PATH).mtimeMs) log('warning: src/ is newer than dist/; run `npm run build` to measure the current code')
  const backgroundBusyPct = await waitForQuiet(QUIET_WAIT_MS)
  const machine = { node: process.version, cores: availableParallelism(), kernel: release(), backgroundBusyPct, loadavg1m: round(loadavg()[0] ?? 0) }
  log(`machine ${backgroundBusyPct} % busy before the start, load average ${machine.loadavg1m}`)
  const server = await startServer(CLI_PATH, [], SERVER_NODE_ARGS)
  const client = new BenchClient(server.port, server.key, PARALLEL)
  try {
    log(`latency: ${WARMUP} warm-up + ${ITERATIONS} measured rounds, each: \`true\` in a warm session, then as a shell job`)
    for (let i = 0; i < WARMUP; i++) { await runOnce(client, 'warm'); await runOnce(client, null) }
    const session: number[] = []
    const job: number[] = []
    const stopCpu = measureCpu(server.pid)
    for (let i = 0; i < ITERATIONS; i++) {
      session.push(await runOnce(client, 'warm'))
      job.push(await runOnce(client, null))
    }
    const latencyCpu = stopCpu()
    log(`throughput: ${PARALLEL} sessions in parallel for ${DURATION_MS / 1000} s, then ${PARALLEL} clients of shell jobs`)
    for (let i = 0; i < PARALLEL; i++) await runOnce(client, `par-${i}`)
    const sessionsPerSec = await throughput(client, true)
    const jobsPerSec = await throughput(client, false)
    const results = { session: stats(session), job: stats(job), ratio: round(median(session) / median(job), 3), sessionsPerSec, jobsPerSec, serverCpuPct: latencyCpu.serverCpuPct }
    const rows: Row[] = [
      ['`true` in a warm bash session: POST /exec → GET ?wait sees completed (p50 / p90 / p99)', '—', `${results.session.p50} / ${results.session.p90} / ${results.session.p99} ms`, null],
      ['`true` as a fresh shell job, same run (p50 / p90 / p99)', '—', `${results.job.p50} / ${results.job.p90} / ${results.job.p99} ms`, null],
      ['Session p50 ÷ job p50', `≤ ${TARGET_RATIO}`, `${results.ratio}`, results.ratio <= TARGET_RATIO],
      [`Throughput: ${PARALLEL} sessions in parallel, commands/s`, '—', `${sessionsPerSec} /s`, null],
      [`Throughput: ${PARALLEL} clients of shell jobs, jobs/s (for comparison)`, '—', `${jobsPerSec} /s`, null],
    ]
    process.stdout.write(`${table(rows)}\n\n`)
    process.stdout.write(`${JSON.stringify({ bench: 'sessions', date: new Date().toISOString(), machine, iterations: ITERATIONS, durationSec: DURATION_MS / 1000, ...results })}\n`)
  } finally {
    // Why: sessions outlive a stop; ending them here leaves nothing behind (stop() also kills leftovers).
    try {
      for (const s of await client.json<Array<{ sessionKey: string }>>('GET', '/sessions', undefined, [200])) {
        await client.json('DELETE', `/sessions/${encodeURIComponent(s.sessionKey)}`, undefined, [200])
      }
    } catch (err) {
      log(`ending the sessions failed: ${(err as Error).message}`)
    }
    client.agent.destroy()
    await server.stop()
  }
}

await runBench(main)
