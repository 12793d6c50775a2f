// Job-stream benchmark: starts the real server (node dist/cli.js) as its own process on loopback
// and measures GET /jobs/:id/events (SSE): first-byte latency from a job's write to an SSE client,
// throughput of one client (utf8 and base64) and of 20 concurrent clients, and the server's RSS
// while a client stalls. Run: npm run bench:stream (builds dist/ when it is missing or older than
// src/). Prints progress on stderr, a markdown table and then one JSON line on stdout.
import { execFileSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { availableParallelism, release } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BenchClient } from './lib/http-client.js'
import { waitForQuiet } from './lib/machine-probe.js'
import { newestMtimeMs, runBench, startServer } from './lib/server-process.js'
import { clockCheck, measureFanOut, measureFirstByte, measureOneClient, measureStalledClient, runOutputJob, type Encoding } from './lib/stream-phases.js'
import { table, type Row } from './lib/report.js'

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..')
// Why: BENCH_CLI measures another build (e.g. a patched copy) with this same script, as in bench:exec.
const CLI_PATH = resolve(process.env.BENCH_CLI ?? join(ROOT, 'dist', 'cli.js'))
// Why: lets a run profile the server, e.g. BENCH_SERVER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'.
const SERVER_NODE_ARGS = process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? []
const MiB = 1024 * 1024
const envNumber = (name: string, fallback: number): number => {
  const value = Number(process.env[name])
  return process.env[name] !== undefined && Number.isFinite(value) && value > 0 ? value : fallback
}
const LATENCY_SAMPLES = envNumber('BENCH_LATENCY_SAMPLES', 200)
const LATENCY_WARMUP = 10
const LATENCY_INTERVAL_MS = 20
const ONE_CLIENT_BYTES = envNumber('BENCH_STREAM_BYTES', 1024 * MiB)
const FAN_OUT_CLIENTS = envNumber('BENCH_FANOUT_CLIENTS', 20)
const FAN_OUT_BYTES = envNumber('BENCH_FANOUT_BYTES', 256 * MiB)
// Why base64: 20 × 256 MiB of NULs in utf8 is 6× that in JSON escapes ("\u0000"), over a minute here.
const FAN_OUT_ENCODING: Encoding = process.env.BENCH_FANOUT_ENCODING === 'utf8' ? 'utf8' : 'base64'
const STALL_BYTES = envNumber('BENCH_STALL_BYTES', 512 * MiB)
const STALL_HOLD_MS = 2000
const QUIET_WAIT_MS = 20_000
const BUSY_WARNING_PCT = 15
const TARGET_FIRST_BYTE_P50_MS = 5
const TARGET_ONE_CLIENT_MBPS = 500

const round3 = (value: number): number => Math.round(value * 1000) / 1000
const log = (message: string): void => { process.stderr.write(`bench: ${message}\n`) }

const size = (bytes: number): string =>
  bytes % (1024 * MiB) === 0 ? `${bytes / 1024 / MiB} GiB` : bytes % MiB === 0 ? `${bytes / MiB} MiB` : `${bytes} B`

/** Builds dist/ when it is missing or older than src/ (an old dist may not even have the stream routes). */
function ensureBuilt (): void {
  if (process.env.BENCH_CLI !== undefined) {
    if (!existsSync(CLI_PATH)) throw new Error(`BENCH_CLI=${CLI_PATH} does not exist`)
    return
  }
  if (existsSync(CLI_PATH) && newestMtimeMs(join(ROOT, 'src')) <= statSync(CLI_PATH).mtimeMs) return
  log(existsSync(CLI_PATH) ? 'src/ is newer than dist/: npm run build' : 'dist/ is missing: npm run build')
  // Why: the build's stdout goes to our stderr so stdout stays the table and the JSON line.
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 2, 2] })
}

/** Phases 1–3 on one server: first-byte latency, one client (utf8, base64, ASCII), fan-out. */
async function streamPhases () {
  const server = await startServer(CLI_PATH, [], SERVER_NODE_ARGS)
  const client = new BenchClient(server.port, server.key, 4)
  try {
    log(`first-byte latency: ${LATENCY_WARMUP} + ${LATENCY_SAMPLES} lines, one every ${LATENCY_INTERVAL_MS} ms`)
    const firstByte = await measureFirstByte(server, client, LATENCY_SAMPLES, LATENCY_WARMUP, LATENCY_INTERVAL_MS)

    log(`one client: a job writes ${size(ONE_CLIENT_BYTES)} of NULs, then it is read as utf8 and as base64`)
    const bigJob = await runOutputJob(client, `head -c ${ONE_CLIENT_BYTES} /dev/zero`, ONE_CLIENT_BYTES)
    const utf8 = await measureOneClient(server, client, bigJob.jobId, ONE_CLIENT_BYTES, 'utf8')
    log(`  utf8: ${utf8.MBps} MB/s`)
    const base64 = await measureOneClient(server, client, bigJob.jobId, ONE_CLIENT_BYTES, 'base64')
    log(`  base64: ${base64.MBps} MB/s`)
    log(`one client, extra: ${size(ONE_CLIENT_BYTES)} of ASCII 'a' (no JSON escapes) as utf8`)
    const asciiJob = await runOutputJob(client, `head -c ${ONE_CLIENT_BYTES} /dev/zero | tr '\\0' a`, ONE_CLIENT_BYTES)
    const asciiUtf8 = await measureOneClient(server, client, asciiJob.jobId, ONE_CLIENT_BYTES, 'utf8')
    log(`  ascii utf8: ${asciiUtf8.MBps} MB/s`)

    log(`${FAN_OUT_CLIENTS} clients on one finished ${size(FAN_OUT_BYTES)} job (${FAN_OUT_ENCODING})`)
    const fanJob = await runOutputJob(client, `head -c ${FAN_OUT_BYTES} /dev/zero`, FAN_OUT_BYTES)
    const fanOut = await measureFanOut(server, fanJob.jobId, FAN_OUT_BYTES, FAN_OUT_CLIENTS, FAN_OUT_ENCODING)
    log(`  aggregate ${fanOut.aggregateMBps} MB/s`)
    const jobWriteSeconds = { nul: round3(bigJob.seconds), ascii: round3(asciiJob.seconds), fanOut: round3(fanJob.seconds) }
    return { firstByte, oneClient: { utf8, base64, asciiUtf8 }, fanOut, jobWriteSeconds }
  } finally {
    client.close()
    await server.stop()
  }
}

/** Phase 4 on a fresh server, so its RSS baseline is not the one left by the phases before. */
async function stallPhase () {
  const server = await startServer(CLI_PATH, [], SERVER_NODE_ARGS)
  const client = new BenchClient(server.port, server.key, 2)
  try {
    return await measureStalledClient(server, client, STALL_BYTES, STALL_HOLD_MS)
  } finally {
    client.close()
    await server.stop()
  }
}

async function main (): Promise<void> {
  const t0 = Date.now()
  ensureBuilt()
  const machine = { node: process.version, cores: availableParallelism(), kernel: release() }
  log(`${CLI_PATH}: node ${machine.node}, ${machine.cores} cores, kernel ${machine.kernel}; the clients share these cores with the server`)
  // Why: other processes on these few cores skew every number; wait a little for quiet, else say so.
  const busyBefore = await waitForQuiet(QUIET_WAIT_MS)
  if (busyBefore > BUSY_WARNING_PCT) log(`warning: the machine is ${busyBefore} % busy before the benchmark starts; other work skews the numbers`)
  log('clock check: child process → pipe')
  const clock = await clockCheck()
  const { firstByte, oneClient, fanOut, jobWriteSeconds } = await streamPhases()
  log(`stalled client: fresh server, a raw socket that never reads while a job writes ${size(STALL_BYTES)}`)
  const stall = await stallPhase()

  const one = (result: Awaited<ReturnType<typeof measureOneClient>>): string =>
    `${result.MBps} MB/s (${result.seconds} s; wire ${result.wireMBps} MB/s = ${result.wireBytesPerPayloadByte}× payload; server CPU ${result.serverCpuPct} %, client ${result.clientCpuPct} %, machine ${result.machineBusyPct} %)`
  const rows: Row[] = [
    ['Clock check: child process → pipe, min / p50', '—', `${clock.minMs} / ${clock.p50Ms} ms`, null],
    ['First byte: job write → SSE client, p50', `≤ ${TARGET_FIRST_BYTE_P50_MS} ms`, `${firstByte.p50Ms} ms (${firstByte.samples} samples)`, firstByte.p50Ms <= TARGET_FIRST_BYTE_P50_MS],
    ['… p90 / p99 / max', '—', `${firstByte.p90Ms} / ${firstByte.p99Ms} / ${firstByte.maxMs} ms (${firstByte.linesPerEvent} lines per event)`, null],
    [`One client, ${size(ONE_CLIENT_BYTES)} NULs, utf8 (default)`, `≥ ${TARGET_ONE_CLIENT_MBPS} MB/s`, one(oneClient.utf8), oneClient.utf8.MBps >= TARGET_ONE_CLIENT_MBPS],
    [`One client, ${size(ONE_CLIENT_BYTES)} NULs, base64`, `≥ ${TARGET_ONE_CLIENT_MBPS} MB/s`, one(oneClient.base64), oneClient.base64.MBps >= TARGET_ONE_CLIENT_MBPS],
    [`One client, ${size(ONE_CLIENT_BYTES)} ASCII, utf8 (extra)`, '—', one(oneClient.asciiUtf8), null],
    ['… GET /health during each one-client stream, p50 / max (utf8, base64, ASCII)', '—', [oneClient.utf8, oneClient.base64, oneClient.asciiUtf8].map((r) => `${r.healthDuringStream.p50Ms} / ${r.healthDuringStream.maxMs} ms (${r.healthDuringStream.requests})`).join('; '), null],
    [`${fanOut.clients} clients, ${size(fanOut.bytes)} NULs, ${fanOut.encoding}: aggregate`, '—', `${fanOut.aggregateMBps} MB/s (${fanOut.seconds} s; server CPU ${fanOut.serverCpuPct} %, clients ${fanOut.clientCpuPct} %, machine ${fanOut.machineBusyPct} %)`, null],
    ['… per client min / median / max', '—', `${fanOut.perClientMBps.min} / ${fanOut.perClientMBps.median} / ${fanOut.perClientMBps.max} MB/s (first output after ${fanOut.firstOutputMs.min} / ${fanOut.firstOutputMs.median} / ${fanOut.firstOutputMs.max} ms)`, null],
    [`Stalled client while a job writes ${size(stall.bytes)}: server RSS`, '—', `${stall.rssBeforeMiB} → peak ${stall.rssPeakMiB} MiB (+${stall.rssPeakGrowthMiB} MiB, ${stall.peakFrom}); ${stall.rssStalledMiB} MiB stalled ${stall.holdMs / 1000} s after the job; ${stall.rssAfterCloseMiB} MiB after close`, null],
    ['… GET /health during the stall, p50 / max', '—', `${stall.healthDuringStall.p50Ms} / ${stall.healthDuringStall.maxMs} ms (${stall.healthDuringStall.requests} requests)`, null],
  ]
  process.stdout.write(`${table(rows)}\n\n`)
  process.stdout.write(`${JSON.stringify({ bench: 'stream', date: new Date().toISOString(), machine: { ...machine, busyBeforePct: busyBefore }, totalSeconds: round3((Date.now() - t0) / 1000), clock, firstByte, oneClient, fanOut, stall, jobWriteSeconds })}\n`)
}

await runBench(main)
