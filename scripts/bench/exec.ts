// Shell-job benchmark: starts the real server (node dist/cli.js) as its own process on loopback
// and measures start-up, submit→completion latency, job throughput, GET req/s and a 1 GiB job.
// Run: npm run build && npm run bench:exec. Prints a markdown table, then one JSON line.
// `npm run bench:exec -- --compare URL KEY` instead runs the latency, throughput and GET phases
// against this server and another devpilot-compatible one (on loopback) in the same run, with the
// floor (a bare posix_spawn), a Fastify hello-world GET ceiling and /health under a job flood.
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { availableParallelism, release, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { measureBigOutput } from './lib/big-output.js'
import { finishedJob, gets, getsRatio, healthAtRate, healthUnderFlood, latency, startBareExec, startHelloWorld, throughput, type Target } from './lib/compare-phases.js'
import { measureGets, measureLatency, measureStartup, measureThroughput, type CpuShare } from './lib/exec-phases.js'
import { probeMachine, waitForQuiet } from './lib/machine-probe.js'
import { newestMtimeMs, startServer, stopAllServers, type ServerProcess } from './lib/server-process.js'
import { measureSpawnFloor } from './lib/spawn-floor.js'
import { round } from './lib/stats.js'
import { findWrk } from './lib/wrk.js'
import { table, type Row } from './lib/report.js'

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..')
// Why: BENCH_CLI measures another build (e.g. of a clean checkout) with this same script.
const CLI_PATH = resolve(process.env.BENCH_CLI ?? join(ROOT, 'dist', 'cli.js'))
const envNumber = (name: string, fallback: number): number => {
  const value = Number(process.env[name])
  return process.env[name] !== undefined && Number.isFinite(value) && value > 0 ? value : fallback
}
const DURATION_SEC = envNumber('BENCH_DURATION_SEC', 10)
const STARTUP_RUNS = envNumber('BENCH_STARTUP_RUNS', 5)
const IDLE_WATCH_SEC = envNumber('BENCH_IDLE_WATCH_SEC', 45)
const LATENCY_WARMUP = 20
const LATENCY_ITERATIONS = envNumber('BENCH_LATENCY_ITERATIONS', 300)
const THROUGHPUT_CLIENTS = 32
const GET_CONNECTIONS = 16
// The alternating GET rounds of --compare (ours, then the hello-world, each round).
const GET_ROUNDS = envNumber('BENCH_GET_ROUNDS', 5)
const GET_ROUND_SEC = envNumber('BENCH_GET_ROUND_SEC', 3)
const BIG_OUTPUT_BYTES = envNumber('BENCH_OUTPUT_BYTES', 1024 * 1024 * 1024)
const QUIET_WAIT_MS = 20_000
// Pause after a job flood so that a server's backlog does not run into the next phase.
const SETTLE_MS = 3000
const LOAD_FLAGS = ['--max-concurrent-jobs', '64', '--max-pending-jobs', '10000']
const PHASES = ['startup', 'latency', 'gets', 'throughput', 'output'] as const
type Phase = typeof PHASES[number]
const SELECTED = new Set<Phase>((process.env.BENCH_PHASES?.split(',') ?? PHASES).filter((p): p is Phase => (PHASES as readonly string[]).includes(p)))
// Why: lets a run profile the server, e.g. BENCH_SERVER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'.
const SERVER_NODE_ARGS = process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? []
// Extra server flags for experiments, e.g. BENCH_SERVER_ARGS='--job-retention 100000'.
const SERVER_ARGS = process.env.BENCH_SERVER_ARGS?.split(' ').filter(Boolean) ?? []

const compareAt = process.argv.indexOf('--compare')
const COMPARE = compareAt >= 0 ? { url: process.argv[compareAt + 1] ?? '', key: process.argv[compareAt + 2] ?? '' } : null
if (COMPARE && (!/^https?:\/\//.test(COMPARE.url) || COMPARE.key === '')) throw new Error('usage: bench:exec -- --compare URL KEY')
const log = (message: string): void => { process.stderr.write(`bench: ${message}\n`) }
const launch = async (args: readonly string[] = []): Promise<ServerProcess> => startServer(CLI_PATH, [...args, ...SERVER_ARGS], SERVER_NODE_ARGS)
const cpuNote = (c: CpuShare): string => `server CPU ${c.serverCpuPct} %, bench client ${c.clientCpuPct} %, machine busy ${c.machineBusyPct} %`
const mb = (mebibytes: number): number => mebibytes * 1.048576

async function startupRows (results: Record<string, unknown>): Promise<Row[]> {
  log(`start-up × ${STARTUP_RUNS}`)
  const s = await measureStartup(launch, STARTUP_RUNS, IDLE_WATCH_SEC)
  results.startup = s
  const idle = s.idleRssMiB === null
    ? 'not measured (BENCH_IDLE_WATCH_SEC=0)'
    : `${s.idleRssMiB} MiB = ${round(mb(s.idleRssMiB), 1)} MB after ${s.idleWatchSec} s idle (unchanged since second ${s.idleRssSettledAfterSec ?? '—'})`
  return [
    ['Ready: spawn → GET /health 200 (median)', '< 500 ms', `${s.readyMsMedian} ms (runs: ${s.readyMs.join(', ')}; banner at ${s.bannerMsMedian} ms)`, s.readyMsMedian < 500],
    ['RSS 250 ms after ready (median)', '—', `${s.startRssMiBMedian} MiB = ${round(mb(s.startRssMiBMedian), 1)} MB`, null],
    ['Idle RSS (the last server, left idle)', '< 80 MB', idle, s.idleRssMiB === null ? null : mb(s.idleRssMiB) < 80],
  ]
}

async function loadedRows (results: Record<string, unknown>, wrk: string | null): Promise<Row[]> {
  if (!SELECTED.has('latency') && !SELECTED.has('gets') && !SELECTED.has('throughput')) return []
  const rows: Row[] = []
  const server = await launch(LOAD_FLAGS)
  try {
    if (SELECTED.has('latency')) {
      log(`latency: ${LATENCY_WARMUP} warm-up + ${LATENCY_ITERATIONS} sequential jobs`)
      const l = await measureLatency(server, LATENCY_WARMUP, LATENCY_ITERATIONS)
      results.latency = l
      rows.push(['Submit → observed completion of `true`, p50', '≤ 2 ms', `${l.p50Ms} ms`, l.p50Ms <= 2],
        ['… p90 / p99; POST /exec alone p50', '—', `${l.p90Ms} / ${l.p99Ms} ms; ${l.submitOnlyP50Ms} ms (${cpuNote(l)})`, null])
    }
    if (SELECTED.has('gets')) {
      log(`GET /jobs/:id: ${GET_CONNECTIONS} keep-alive connections, ${DURATION_SEC} s${wrk ? ', Node loops then wrk' : ''}`)
      const g = await measureGets(server, GET_CONNECTIONS, DURATION_SEC, wrk)
      results.gets = g
      const best = Math.max(g.node.reqPerSec, g.wrk?.requestsPerSec ?? 0)
      rows.push([`GET /jobs/:id, keep-alive, ${GET_CONNECTIONS} conns (Node loops)`, '≥ 20,000 /s', `${g.node.reqPerSec} /s, ${g.node.errors} errors (${cpuNote(g.node)})`, g.wrk ? null : best >= 20_000])
      if (g.wrk) rows.push(['… same with wrk -t1', '≥ 20,000 /s', `${g.wrk.requestsPerSec} /s, ${g.wrk.errors} errors (server CPU ${g.wrk.serverCpuPct} %, machine busy ${g.wrk.machineBusyPct} %)`, best >= 20_000])
    }
    if (SELECTED.has('throughput')) {
      log(`throughput: ${THROUGHPUT_CLIENTS} clients, ${DURATION_SEC} s`)
      const t = await measureThroughput(server, THROUGHPUT_CLIENTS, DURATION_SEC)
      results.throughput = t
      rows.push([`Completed jobs/s, ${THROUGHPUT_CLIENTS} clients`, '≥ 700 /s', `${t.jobsPerSec} /s (${t.completed} jobs, ${t.errors} errors; ${cpuNote(t)})`, t.jobsPerSec >= 700 && t.errors === 0])
    }
  } finally {
    await server.stop()
  }
  return rows
}

async function outputRows (results: Record<string, unknown>): Promise<Row[]> {
  const server = await launch()
  try {
    log(`big output: ${BIG_OUTPUT_BYTES} bytes, then read back`)
    const b = await measureBigOutput(server, BIG_OUTPUT_BYTES)
    results.bigOutput = b
    const size = BIG_OUTPUT_BYTES === 1024 ** 3 ? '1 GiB' : `${BIG_OUTPUT_BYTES} B`
    return [
      [`${size} output job: submit → completion`, '—', `${b.writeMBps} MB/s (${b.writeSeconds} s)`, null],
      [`${size} output job: server peak RSS growth`, '< 50 MB', `${b.writeRssGrowthMiB} MiB (${b.peakFrom})`, mb(b.writeRssGrowthMiB) < 50],
      [`${size} read back, GET /jobs/:id/stdout`, '—', `${b.readMBps} MB/s (${b.readSeconds} s, SHA-256 checked)`, null],
      ['… server peak RSS growth during read-back', '< 50 MB', `${b.readRssGrowthMiB} MiB`, mb(b.readRssGrowthMiB) < 50],
      ['GET /jobs/:id of that job without tailLines (extra)', '—', `${b.plainViewMs} ms, ${b.plainViewResponseMiB} MiB answer, RSS +${b.plainViewRssGrowthMiB} MiB`, null],
    ]
  } finally {
    await server.stop()
  }
}

const ratio = (a: number, b: number): number => round(a / b, 2)

// --compare: both servers, same run, same client; ratios against the issue-10 targets.
async function compareRows (results: Record<string, unknown>, url: string, key: string): Promise<Row[]> {
  const parsed = new URL(url)
  const other: Target = { name: 'other', port: Number(parsed.port || 80), key, pid: null, longPoll: false }
  const server = await launch(LOAD_FLAGS)
  const ours: Target = { name: 'agent-runtime', port: server.port, key: server.key, pid: server.pid, longPoll: true }
  const hello = await startHelloWorld(ROOT)
  const bare = await startBareExec(ROOT)
  try {
    log('floor: posix_spawn of sh -c true (python3)')
    const floor = measureSpawnFloor(LATENCY_ITERATIONS)
    // Why this order: GETs first, while neither server has a backlog of jobs; a pause after each flood.
    log(`GET /jobs/:id: ${GET_CONNECTIONS} connections, ${DURATION_SEC} s each (ours, other, hello-world)`)
    const ourJob = `/jobs/${await finishedJob(ours)}`
    const go = await gets(ours, ourJob, GET_CONNECTIONS, DURATION_SEC)
    const gx = await gets(other, `/jobs/${await finishedJob(other)}`, GET_CONNECTIONS, DURATION_SEC)
    const gh = await gets({ port: hello.port, key: '' }, '/jobs/abcdef012345', GET_CONNECTIONS, DURATION_SEC)
    log(`GET /jobs/:id: ours against the hello-world, ${GET_ROUNDS} alternating rounds of ${GET_ROUND_SEC} s`)
    const gr = await getsRatio({ target: ours, path: ourJob }, { target: { port: hello.port, key: '' }, path: '/jobs/abcdef012345' }, GET_CONNECTIONS, GET_ROUNDS, GET_ROUND_SEC)
    log(`latency: ${LATENCY_ITERATIONS} sequential \`true\` jobs on each server (the other one polled every 1 ms)`)
    const lo = await latency(ours, LATENCY_WARMUP, LATENCY_ITERATIONS)
    const lx = await latency(other, LATENCY_WARMUP, LATENCY_ITERATIONS)
    log(`latency: ${LATENCY_ITERATIONS} sequential \`true\` jobs on ours, each submitted and waited for in one request (POST /exec?wait)`)
    const l1 = await latency({ ...ours, oneRequest: true }, LATENCY_WARMUP, LATENCY_ITERATIONS)
    log(`latency: ${LATENCY_ITERATIONS} sequential \`true\` jobs on the bare exec server (Fastify + a posix_spawn helper, one request)`)
    const lb = await latency({ name: 'bare', port: bare.port, key: '', pid: bare.pid, longPoll: true, oneRequest: true }, LATENCY_WARMUP, LATENCY_ITERATIONS)
    log(`throughput: ${THROUGHPUT_CLIENTS} clients, ${DURATION_SEC} s each`)
    const to = await throughput(ours, THROUGHPUT_CLIENTS, DURATION_SEC)
    await sleep(SETTLE_MS)
    const tx = await throughput(other, THROUGHPUT_CLIENTS, DURATION_SEC)
    await sleep(SETTLE_MS)
    log(`/health while ${THROUGHPUT_CLIENTS} clients flood \`true\` jobs, ${DURATION_SEC} s`)
    const h = await healthUnderFlood(ours, THROUGHPUT_CLIENTS, DURATION_SEC)
    await sleep(SETTLE_MS)
    // Why also at fixed rates: a closed-loop flood saturates any server; these show where /health stays fast.
    const rates: Array<Awaited<ReturnType<typeof healthAtRate>>> = []
    for (const share of [0.25, 0.5]) {
      const rate = Math.max(1, Math.round(share * h.floodJobsPerSec))
      log(`/health while \`true\` jobs arrive at ${rate}/s (${share * 100} % of the flood's rate), ${DURATION_SEC} s`)
      rates.push(await healthAtRate(ours, rate, DURATION_SEC))
      await sleep(SETTLE_MS)
    }
    results.compare = { other: url, floor, latency: { ours: lo, other: lx, oursOneRequest: l1, bareExec: lb }, throughput: { ours: to, other: tx }, gets: { ours: go, other: gx, helloWorld: gh, alternating: gr }, healthUnderFlood: h, healthAtRates: rates }
    const added = floor ? round(lo.p50Ms - floor.p50Ms) : Number.NaN
    const added1 = floor ? round(l1.p50Ms - floor.p50Ms) : Number.NaN
    return [
      ['Floor: posix_spawn `sh -c true` → reaped, p50 / p90', '—', floor ? `${floor.p50Ms} / ${floor.p90Ms} ms` : 'python3 missing', null],
      ['Submit → observed completion of `true`, p50 (ours / other)', 'ratio ≤ 0.5', `${lo.p50Ms} / ${lx.p50Ms} ms = ${ratio(lo.p50Ms, lx.p50Ms)}× (p99 ${lo.p99Ms} / ${lx.p99Ms} ms; our server CPU ${lo.serverCpuPct ?? '—'} %)`, lo.p50Ms / lx.p50Ms <= 0.5],
      ['… ours in one request (`POST /exec?wait`) / other', 'ratio ≤ 0.5', `${l1.p50Ms} / ${lx.p50Ms} ms = ${ratio(l1.p50Ms, lx.p50Ms)}× (p99 ${l1.p99Ms} ms)`, l1.p50Ms / lx.p50Ms <= 0.5],
      ['Our added latency over the floor (p50 − floor p50; in one request)', '≤ 1 ms', `${added} ms; ${added1} ms`, added <= 1],
      ['Architecture floor: bare exec server (Fastify, no records or files, posix_spawn helper), one request, p50 / other', '—', `${lb.p50Ms} / ${lx.p50Ms} ms = ${ratio(lb.p50Ms, lx.p50Ms)}× (p99 ${lb.p99Ms} ms); ours in one request ${round(l1.p50Ms - lb.p50Ms)} ms above it`, null],
      [`Completed \`true\` jobs/s, ${THROUGHPUT_CLIENTS} clients (ours / other)`, 'ratio ≥ 2', `${to.jobsPerSec} / ${tx.jobsPerSec} = ${ratio(to.jobsPerSec, tx.jobsPerSec)}× (errors ${to.errors} / ${tx.errors})`, to.jobsPerSec / tx.jobsPerSec >= 2 && to.errors === 0],
      [`GET /jobs/:id req/s, ${GET_CONNECTIONS} conns (ours / other / hello-world)`, '—', `${go.reqPerSec} / ${gx.reqPerSec} / ${gh.reqPerSec} = ${Math.round(100 * go.reqPerSec / gh.reqPerSec)} % of hello-world, ${ratio(go.reqPerSec, gx.reqPerSec)}× other`, null],
      [`… ours / hello-world, median of ${GET_ROUNDS} alternating rounds`, 'ours ≥ 60 % of hello-world', `${Math.round(100 * gr.median)} % (rounds: ${gr.ratios.map((r) => `${Math.round(100 * r)} %`).join(', ')})`, gr.median >= 0.6],
      [`GET /health round trip while ${THROUGHPUT_CLIENTS} clients flood \`true\` jobs, p50 / p99`, 'p99 ≤ 5 ms', `${h.p50Ms} / ${h.p99Ms} ms (${h.samples} samples; flood ${h.floodJobsPerSec} jobs/s)`, h.p99Ms <= 5],
      ...rates.map((r): Row => [`… while \`true\` jobs arrive at a fixed ${r.rate}/s, p50 / p99`, '—', `${r.p50Ms} / ${r.p99Ms} ms (${r.samples} samples; ${r.jobs} jobs, errors ${r.errors})`, null]),
    ]
  } finally {
    await bare.stop()
    await hello.stop()
    await server.stop()
  }
}

async function main (probeDir: string): Promise<void> {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first`)
  if (process.env.BENCH_CLI === undefined && newestMtimeMs(join(ROOT, 'src')) > statSync(CLI_PATH).mtimeMs) log('warning: src/ is newer than dist/; run `npm run build` to measure the current code')
  const wrk = findWrk()
  // Why: other processes on the machine skew every number here; wait a little for quiet, else say so.
  const backgroundBusyPct = await waitForQuiet(QUIET_WAIT_MS)
  const probe = await probeMachine(probeDir)
  const machine = { node: process.version, cores: availableParallelism(), kernel: release(), wrk: wrk !== null, tmpdir: tmpdir(), backgroundBusyPct, ...probe }
  log(`machine probe: mkdir + 2 file creates ${probe.mkdirAndTwoFilesP50Ms} ms, spawn sh -c true → exit ${probe.spawnShToExitP50Ms} ms (p50)`)
  if (backgroundBusyPct > 15) log(`warning: the machine was ${backgroundBusyPct} % busy before the benchmark started; results will be low`)
  log(`${CLI_PATH}: node ${machine.node}, ${machine.cores} cores, kernel ${machine.kernel}; the load generator shares these cores`)
  const results: Record<string, unknown> = {}
  const rows: Row[] = [
    ['Context: machine busy before start; mkdir + 2 file creates; spawn `sh -c true` → exit (p50)', '—',
      `${backgroundBusyPct} %; ${probe.mkdirAndTwoFilesP50Ms} ms; ${probe.spawnShToExitP50Ms} ms`, null],
    ...COMPARE
      ? await compareRows(results, COMPARE.url, COMPARE.key)
      : [
          ...SELECTED.has('startup') ? await startupRows(results) : [],
          ...await loadedRows(results, wrk),
          ...SELECTED.has('output') ? await outputRows(results) : [],
        ],
  ]
  process.stdout.write(`${table(rows)}\n\n`)
  process.stdout.write(`${JSON.stringify({ bench: 'exec', date: new Date().toISOString(), machine, ...results })}\n`)
}

let interrupted = false
const interrupt = (): void => {
  if (interrupted) return
  interrupted = true
  log('interrupted: stopping servers')
  stopAllServers().finally(() => {
    rmSync(probeDir, { recursive: true, force: true })
    process.exit(130)
  })
}
process.once('SIGINT', interrupt)
process.once('SIGTERM', interrupt)

const probeDir = mkdtempSync(join(tmpdir(), 'agent-runtime-bench-probe-'))
try {
  await main(probeDir)
} catch (err) {
  log(`failed: ${(err as Error).stack ?? String(err)}`)
  process.exitCode = 1
} finally {
  await stopAllServers()
  rmSync(probeDir, { recursive: true, force: true })
}
