// Shell-job benchmark: starts the real server (node dist/cli.js) as its own process on loopback
// and measures start-up, submit→completion latency, job throughput, GET req/s and a 1 GiB job.
// Run: npm run build && npm run bench:exec. Prints a markdown table, then one JSON line.
import { existsSync, readdirSync, statSync } from 'node:fs'
import { availableParallelism, release } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { measureBigOutput, measureGets, measureLatency, measureStartup, measureThroughput } from './lib/exec-phases.js'
import { startServer, stopAllServers } from './lib/server-process.js'
import { findWrk } from './lib/wrk.js'

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..')
const CLI_PATH = join(ROOT, 'dist', 'cli.js')
const envNumber = (name: string, fallback: number): number => {
  const value = Number(process.env[name])
  return process.env[name] !== undefined && Number.isFinite(value) && value > 0 ? value : fallback
}
const DURATION_SEC = envNumber('BENCH_DURATION_SEC', 10)
const STARTUP_RUNS = envNumber('BENCH_STARTUP_RUNS', 5)
const LATENCY_WARMUP = 20
const LATENCY_ITERATIONS = envNumber('BENCH_LATENCY_ITERATIONS', 300)
const THROUGHPUT_CLIENTS = 32
const GET_CONNECTIONS = 16
const BIG_OUTPUT_BYTES = envNumber('BENCH_OUTPUT_BYTES', 1024 * 1024 * 1024)
const LOAD_FLAGS = ['--max-concurrent-jobs', '64', '--max-pending-jobs', '10000']

const log = (message: string): void => { process.stderr.write(`bench: ${message}\n`) }

function newestMtimeMs (dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtimeMs(path) : statSync(path).mtimeMs)
  }
  return newest
}

type Row = [metric: string, target: string, measured: string, meets: boolean | null]

function table (rows: Row[]): string {
  const lines = ['| Metric | Target | Measured | Meets target |', '|---|---|---|---|']
  for (const [metric, target, measured, meets] of rows) {
    lines.push(`| ${metric} | ${target} | ${measured} | ${meets === null ? '—' : meets ? 'yes' : '**no**'} |`)
  }
  return lines.join('\n')
}

async function main (): Promise<void> {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first`)
  if (newestMtimeMs(join(ROOT, 'src')) > statSync(CLI_PATH).mtimeMs) log('warning: src/ is newer than dist/; run `npm run build` to measure the current code')
  const wrk = findWrk()
  const machine = { node: process.version, cores: availableParallelism(), kernel: release(), wrk: wrk !== null }
  log(`node ${machine.node}, ${machine.cores} cores, kernel ${machine.kernel}; load generator shares these cores`)

  log(`start-up × ${STARTUP_RUNS}`)
  const startup = await measureStartup(CLI_PATH, STARTUP_RUNS)
  const loaded = await startServer(CLI_PATH, LOAD_FLAGS)
  log(`latency: ${LATENCY_WARMUP} warm-up + ${LATENCY_ITERATIONS} sequential jobs`)
  const latency = await measureLatency(loaded, LATENCY_WARMUP, LATENCY_ITERATIONS)
  log(`GET /jobs/:id: ${GET_CONNECTIONS} keep-alive connections, ${DURATION_SEC} s${wrk ? ' (Node loops, then wrk)' : ''}`)
  const gets = await measureGets(loaded, GET_CONNECTIONS, DURATION_SEC, wrk)
  log(`throughput: ${THROUGHPUT_CLIENTS} clients, ${DURATION_SEC} s`)
  const throughput = await measureThroughput(loaded, THROUGHPUT_CLIENTS, DURATION_SEC)
  await loaded.stop()
  const fresh = await startServer(CLI_PATH)
  log(`big output: ${BIG_OUTPUT_BYTES} bytes, then read back`)
  const big = await measureBigOutput(fresh, BIG_OUTPUT_BYTES)
  await fresh.stop()

  const bestGets = Math.max(gets.node.reqPerSec, gets.wrk?.requestsPerSec ?? 0)
  const size = BIG_OUTPUT_BYTES === 1024 ** 3 ? '1 GiB' : `${BIG_OUTPUT_BYTES} B`
  const rows: Row[] = [
    ['Ready: spawn → GET /health 200 (median)', '< 500 ms', `${startup.readyMsMedian} ms (runs: ${startup.readyMs.join(', ')}; banner ${startup.bannerMsMedian} ms)`, startup.readyMsMedian < 500],
    ['Idle RSS after start (median)', '< 80 MB', `${startup.idleRssMiBMedian} MiB`, startup.idleRssMiBMedian * 1.048576 < 80],
    ['Submit → observed completion of `true`, p50', '≤ 2 ms', `${latency.p50Ms} ms`, latency.p50Ms <= 2],
    ['… p90 / p99 (POST /exec alone p50)', '—', `${latency.p90Ms} / ${latency.p99Ms} ms (${latency.submitOnlyP50Ms} ms)`, null],
    [`Completed jobs/s, ${THROUGHPUT_CLIENTS} clients`, '≥ 700 /s', `${throughput.jobsPerSec} /s (${throughput.completed} jobs, ${throughput.errors} errors; server CPU ${throughput.serverCpuPct} %, client ${throughput.clientCpuPct} %)`, throughput.jobsPerSec >= 700 && throughput.errors === 0],
    [`GET /jobs/:id keep-alive, ${GET_CONNECTIONS} conns (Node loops)`, '≥ 20,000 /s', `${gets.node.reqPerSec} /s (${gets.node.errors} errors; server CPU ${gets.node.serverCpuPct} %, client ${gets.node.clientCpuPct} %)`, gets.wrk ? null : gets.node.reqPerSec >= 20_000],
    ...(gets.wrk ? [['… same with wrk -t1', '≥ 20,000 /s', `${gets.wrk.requestsPerSec} /s (${gets.wrk.errors} errors; server CPU ${gets.wrk.serverCpuPct} %)`, bestGets >= 20_000] as Row] : []),
    [`${size} output job: write throughput`, '—', `${big.writeMBps} MB/s (${big.writeSeconds} s)`, null],
    [`${size} output job: server RSS growth`, '< 50 MB', `${big.writeRssGrowthMiB} MiB (${big.peakFrom})`, big.writeRssGrowthMiB * 1.048576 < 50],
    [`${size} read back via GET /jobs/:id/stdout`, '—', `${big.readMBps} MB/s (${big.readSeconds} s, SHA-256 ok)`, null],
    ['… server RSS growth during read-back', '< 50 MB', `${big.readRssGrowthMiB} MiB`, big.readRssGrowthMiB * 1.048576 < 50],
    ['GET /jobs/:id of that job without tailLines (extra)', '—', `${big.plainViewMs} ms, ${big.plainViewResponseMiB} MiB answer, RSS +${big.plainViewRssGrowthMiB} MiB`, null],
  ]
  process.stdout.write(`${table(rows)}\n\n`)
  process.stdout.write(`${JSON.stringify({ bench: 'exec', date: new Date().toISOString(), machine, startup, latency, throughput, gets, bigOutput: big })}\n`)
}

let interrupted = false
const interrupt = (): void => {
  if (interrupted) return
  interrupted = true
  log('interrupted: stopping servers')
  stopAllServers().finally(() => process.exit(130))
}
process.once('SIGINT', interrupt)
process.once('SIGTERM', interrupt)

try {
  await main()
} catch (err) {
  log(`failed: ${(err as Error).stack ?? String(err)}`)
  process.exitCode = 1
} finally {
  await stopAllServers()
}
