// Terminal benchmark: starts the real server (node dist/cli.js) as its own process on loopback and
// compares a server terminal over GET /terminal (WebSocket) with the same shell on a node-pty in
// this process (the floor: what any Node program that runs a PTY gets, without server or socket).
// (1) Keystroke echo: one printable key at a time into bash's readline, until its echo arrives;
// floor and server alternate key by key, and a WebSocket `ping` → `pong` after each pair shows
// what the socket round trip alone costs. (2) `cat` of a 200 MB text file (lines of 100 bytes),
// from typing the command until an end marker arrives: MB/s, and the server's peak RSS growth;
// each round also runs the same `cat` under `script` (a C program reading a PTY), the in-process
// node-pty, then the server. Knobs: BENCH_ECHO_SAMPLES (500), BENCH_TERMINAL_FILE_MB (200),
// BENCH_TERMINAL_ROUNDS (5), BENCH_CLI, BENCH_SERVER_NODE_ARGS.
// Run: npm run build && npm run bench:terminal. Prints progress on stderr, a markdown table and
// then one JSON line on stdout.
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, fsyncSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs'
import { availableParallelism, release, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { waitForQuiet } from './lib/machine-probe.js'
import { cpuSeconds, measureCpu, resetPeakRss, sampleRss, statusBytes, type CpuShare } from './lib/proc.js'
import { newestMtimeMs, startServer, stopAllServers, type ServerProcess } from './lib/server-process.js'
import { median, mib, percentile, round } from './lib/stats.js'
import { table, type Row } from './lib/report.js'
import { countUntil, openPty, openServerTerminal, waitForText, waitQuiet, type ServerTerminal, type TtyEndpoint } from './lib/terminal-io.js'

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..')
// Why: BENCH_CLI measures another build (e.g. a patched copy) with this same script, as in bench:exec.
const CLI_PATH = resolve(process.env.BENCH_CLI ?? join(ROOT, 'dist', 'cli.js'))
// Why: lets a run profile the server, e.g. BENCH_SERVER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'.
const SERVER_NODE_ARGS = process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? []
const envNumber = (name: string, fallback: number): number => {
  const value = Number(process.env[name])
  return process.env[name] !== undefined && Number.isFinite(value) && value > 0 ? value : fallback
}
const ECHO_SAMPLES = envNumber('BENCH_ECHO_SAMPLES', 500)
const ECHO_WARMUP = 50
// Pause after each key, so every key is a lone keystroke (as typed), not part of a burst.
const ECHO_GAP_MS = 5
// Keys typed on one line before it is cleared with Ctrl-U (so the line never wraps).
const KEYS_PER_LINE = 40
const KEYS = 'abcdefghijklmnopqrstuvwxyz'
const FILE_BYTES = Math.round(envNumber('BENCH_TERMINAL_FILE_MB', 200) * 1e6)
const LINE_BYTES = 100
const CAT_ROUNDS = envNumber('BENCH_TERMINAL_ROUNDS', 5)
const CAT_TIMEOUT_MS = 300_000
const COLS = 120
const ROWS = 40
// The floor's shell: bash without profile or rc files. The server runs `shell=/bin/bash` as `bash -l`.
const SHELL = '/bin/bash'
const QUIET_WAIT_MS = 20_000
const BUSY_WARNING_PCT = 15
const TARGET_ECHO_P50_OVER_FLOOR_MS = 0.5
const TARGET_CAT_MBPS = 100

const log = (message: string): void => { process.stderr.write(`bench: ${message}\n`) }
const r3 = (value: number): number => round(value, 3)
const MB = 1e6

/** Writes `bytes` of text in lines of LINE_BYTES (99 lowercase letters and digits, then \n). */
function makeTextFile (path: string, bytes: number): { bytes: number, lines: number, seconds: number } {
  const t0 = performance.now()
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'
  const blockLines = 10_000
  const lines: string[] = []
  for (let i = 0; i < blockLines; i++) {
    let line = String(i).padStart(6, '0') + ' '
    for (let j = line.length; j < LINE_BYTES - 1; j++) line += alphabet[(i * 7 + j * 13 + ((i * j) % 11)) % alphabet.length]
    lines.push(line + '\n')
  }
  const block = Buffer.from(lines.join(''))
  const fd = openSync(path, 'w')
  let written = 0
  try {
    while (written < bytes) {
      const n = Math.min(block.length, bytes - written)
      writeSync(fd, block, 0, n)
      written += n
    }
    // Why: so the kernel's write-back of 200 MB is not still running while the benchmark measures.
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  return { bytes: written, lines: Math.ceil(written / LINE_BYTES), seconds: (performance.now() - t0) / 1000 }
}

/** Waits until `pid` uses under 5 % of a core over a quarter second (e.g. the server's screen copy caught up). */
async function waitIdleProcess (pid: number, maxMs = 15_000): Promise<void> {
  const deadline = performance.now() + maxMs
  while (performance.now() < deadline) {
    const before = cpuSeconds(pid) ?? 0
    await sleep(250)
    if (((cpuSeconds(pid) ?? 0) - before) / 0.25 < 0.05) return
  }
  log(`warning: process ${pid} still busy after ${maxMs} ms`)
}

/** Waits for the prompt, checks the shell runs a command, and leaves an empty line. */
async function settle (tty: TtyEndpoint, nonce: string): Promise<number> {
  const t0 = performance.now()
  await waitQuiet(tty, 300, 10_000)
  const ready = waitForText(tty, `READY-${nonce}`, 10_000)
  tty.write(`echo READY-""${nonce}\r`)
  await ready
  await waitQuiet(tty, 200, 5000)
  return performance.now() - t0
}

async function clearLine (ttys: TtyEndpoint[]): Promise<void> {
  for (const tty of ttys) tty.write('\u0015')
  for (const tty of ttys) await waitQuiet(tty, 30, 1000)
}

/** One keystroke: the time from writing `key` until the chunk carrying its echo arrived, in ms. */
async function echoOnce (tty: TtyEndpoint, key: string): Promise<number> {
  const arrived = waitForText(tty, key, 5000)
  const t0 = performance.now()
  tty.write(key)
  return (await arrived) - t0
}

const echoStats = (values: number[]) => ({
  samples: values.length,
  minMs: r3(Math.min(...values)),
  p50Ms: r3(median(values)),
  p90Ms: r3(percentile(values, 90)),
  p99Ms: r3(percentile(values, 99)),
  maxMs: r3(Math.max(...values)),
})

/** Keystroke echo on both terminals, alternating key by key (and which goes first), so load hits both alike. */
async function measureEcho (floor: TtyEndpoint, server: ServerTerminal) {
  const floorMs: number[] = []
  const serverMs: number[] = []
  const pingMs: number[] = []
  await clearLine([floor, server])
  for (let i = 0; i < ECHO_WARMUP + ECHO_SAMPLES; i++) {
    if (i > 0 && i % KEYS_PER_LINE === 0) await clearLine([floor, server])
    const key = KEYS[i % KEYS.length] as string
    for (const tty of i % 2 === 0 ? [floor, server] : [server, floor]) {
      const ms = await echoOnce(tty, key)
      if (i >= ECHO_WARMUP) (tty === floor ? floorMs : serverMs).push(ms)
      await sleep(ECHO_GAP_MS)
    }
    // Why: the WebSocket round trip without the PTY (ping → pong), what the server adds at least.
    const ms = await server.ping()
    if (i >= ECHO_WARMUP) pingMs.push(ms)
    await sleep(ECHO_GAP_MS)
  }
  await clearLine([floor, server])
  const paired = serverMs.map((ms, i) => ms - (floorMs[i] as number))
  return { floor: echoStats(floorMs), server: echoStats(serverMs), pairedDiffP50Ms: r3(median(paired)), wsPing: echoStats(pingMs) }
}

interface CatRound {
  seconds: number
  MBps: number
  receivedBytes: number
  receivedMBps: number
  chunks: number
  cpu: CpuShare
  rss?: { beforeMiB: number, peakMiB: number, peakGrowthMiB: number, peakFrom: string }
}

/** Types `cat file; echo <marker>` and counts output until the marker arrived. With `serverPid`, also its CPU and peak RSS. */
async function catRound (tty: TtyEndpoint, file: { path: string, bytes: number, lines: number }, tag: string, serverPid?: number): Promise<CatRound> {
  await waitQuiet(tty, 200, 10_000)
  const marker = `END-${tag}`
  const before = serverPid === undefined ? 0 : statusBytes(serverPid, 'VmRSS') ?? 0
  const hwmReset = serverPid !== undefined && resetPeakRss(serverPid)
  const sampler = serverPid === undefined ? null : sampleRss(serverPid)
  const stopCpu = measureCpu(serverPid ?? process.pid)
  let t0 = 0
  const result = await countUntil(tty, marker, CAT_TIMEOUT_MS, () => {
    t0 = performance.now()
    tty.write(`cat ${file.path}; echo "END-""${tag}"\r`)
  })
  const cpu = stopCpu()
  const seconds = (result.endAt - t0) / 1000
  let rss: CatRound['rss']
  if (serverPid !== undefined && sampler) {
    const sampled = sampler.stop()
    const peak = hwmReset ? Math.max(statusBytes(serverPid, 'VmHWM') ?? 0, sampled) : sampled
    rss = { beforeMiB: mib(before), peakMiB: mib(peak), peakGrowthMiB: mib(peak - before), peakFrom: hwmReset ? 'VmHWM' : 'VmRSS samples' }
  }
  // Why: a PTY turns each \n into \r\n, so at least one more byte per line must have arrived.
  const expected = file.bytes + file.lines
  if (result.bytes < expected) throw new Error(`${tty.name}: ${result.bytes} bytes arrived, expected at least ${expected}`)
  await waitQuiet(tty, 200, 10_000)
  return {
    seconds: r3(seconds),
    MBps: round(file.bytes / MB / seconds, 1),
    receivedBytes: result.bytes,
    receivedMBps: round(result.bytes / MB / seconds, 1),
    chunks: result.chunks,
    cpu,
    ...(rss ? { rss } : {}),
  }
}

/** `cat file > /dev/null`: what reading the file costs here (page cache), for scale. */
function catToDevNull (path: string): number {
  const t0 = performance.now()
  const done = spawnSync('/bin/sh', ['-c', `cat '${path}' > /dev/null`], { stdio: 'ignore' })
  if (done.status !== 0) throw new Error(`cat > /dev/null failed: ${done.status}`)
  return (performance.now() - t0) / 1000
}

/**
 * `script` (util-linux) runs the `cat` on a PTY of its own and copies the master's output to
 * /dev/null: a C program reading a PTY, no Node. Seconds, or null where `script -c` is missing.
 */
function catThroughScript (path: string): { seconds: number, machineBusyPct: number } | null {
  const stopCpu = measureCpu(process.pid)
  const t0 = performance.now()
  const done = spawnSync('script', ['-q', '-c', `cat '${path}'`, '/dev/null'], { stdio: 'ignore' })
  const seconds = (performance.now() - t0) / 1000
  return done.error === undefined && done.status === 0 ? { seconds, machineBusyPct: stopCpu().machineBusyPct } : null
}

async function main (workdir: string, cleanup: Array<() => Promise<void>>): Promise<void> {
  const t0 = Date.now()
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first`)
  if (process.env.BENCH_CLI === undefined && newestMtimeMs(join(ROOT, 'src')) > statSync(CLI_PATH).mtimeMs) log('warning: src/ is newer than dist/; run `npm run build` to measure the current code')
  const machine = { node: process.version, cores: availableParallelism(), kernel: release() }
  log(`${CLI_PATH}: node ${machine.node}, ${machine.cores} cores, kernel ${machine.kernel}; this process (floor PTY and WebSocket client) shares these cores with the server`)

  const path = join(workdir, 'big.txt')
  log(`writing ${FILE_BYTES / MB} MB of text (lines of ${LINE_BYTES} bytes) to ${path}`)
  const file = { path, ...makeTextFile(path, FILE_BYTES) }
  const devNullSeconds = Math.min(catToDevNull(path), catToDevNull(path))

  // Why: other processes on these few cores skew every number; wait a little for quiet, else say so.
  const busyBefore = await waitForQuiet(QUIET_WAIT_MS)
  if (busyBefore > BUSY_WARNING_PCT) log(`warning: the machine is ${busyBefore} % busy before the benchmark starts; other work skews the numbers`)

  const server: ServerProcess = await startServer(CLI_PATH, [], SERVER_NODE_ARGS)
  const nonce = randomBytes(4).toString('hex')
  const floor = openPty(SHELL, ['--norc', '--noprofile'], COLS, ROWS, workdir)
  cleanup.push(() => floor.close())
  const remote = await openServerTerminal(server.port, server.key, { shell: SHELL, cols: String(COLS), rows: String(ROWS), workdir })
  cleanup.push(() => remote.close())
  log(`server terminal ${remote.sessionId}: socket open after ${round(remote.openMs)} ms, session frame after ${round(remote.sessionFrameMs)} ms`)
  const floorSettleMs = await settle(floor, nonce)
  const serverSettleMs = await settle(remote, nonce)
  await waitIdleProcess(server.pid)
  const rssIdleMiB = mib(statusBytes(server.pid, 'VmRSS') ?? 0)

  log(`keystroke echo: ${ECHO_WARMUP} warm-up + ${ECHO_SAMPLES} keys on each terminal, alternating, ${ECHO_GAP_MS} ms apart, and a WebSocket ping after each pair`)
  const stopEchoCpu = measureCpu(server.pid)
  const echo = await measureEcho(floor, remote)
  const echoCpu = stopEchoCpu()
  // Why: the echo phase itself needs little CPU, so what else ran meanwhile shows how noisy the machine was.
  const otherCpuDuringEchoPct = Math.max(0, round(echoCpu.machineBusyPct * machine.cores - echoCpu.serverCpuPct - echoCpu.clientCpuPct, 0))
  log(`  floor p50 ${echo.floor.p50Ms} ms, server p50 ${echo.server.p50Ms} ms`)

  log(`cat of ${file.bytes / MB} MB, ${CAT_ROUNDS} rounds, each: \`script\`, the in-process PTY, then the server terminal`)
  const floorRounds: CatRound[] = []
  const serverRounds: CatRound[] = []
  const scriptMBps: number[] = []
  const scriptMachineBusyPct: number[] = []
  for (let i = 0; i < CAT_ROUNDS; i++) {
    const scriptRun = catThroughScript(file.path)
    if (scriptRun !== null) {
      scriptMBps.push(round(file.bytes / MB / scriptRun.seconds, 1))
      scriptMachineBusyPct.push(scriptRun.machineBusyPct)
    }
    floorRounds.push(await catRound(floor, file, `${nonce}-f${i}`))
    await waitIdleProcess(server.pid)
    serverRounds.push(await catRound(remote, file, `${nonce}-s${i}`, server.pid))
    log(`  round ${i + 1}: script ${scriptMBps.at(-1) ?? '—'} MB/s, node-pty ${floorRounds.at(-1)?.MBps} MB/s, server ${serverRounds.at(-1)?.MBps} MB/s`)
    await waitIdleProcess(server.pid)
  }
  const rssAfterMiB = mib(statusBytes(server.pid, 'VmRSS') ?? 0)

  const mbps = (rounds: CatRound[]): number => median(rounds.map((x) => x.MBps))
  const all = (rounds: CatRound[]): string => rounds.map((x) => x.MBps).join(', ')
  const serverMBps = mbps(serverRounds)
  const floorMBps = mbps(floorRounds)
  const echoOverFloor = r3(echo.server.p50Ms - echo.floor.p50Ms)
  const peakGrowth = Math.max(...serverRounds.map((x) => x.rss?.peakGrowthMiB ?? 0))
  const cpuText = (rounds: CatRound[], who: 'server' | 'client'): string =>
    rounds.map((x) => who === 'server' ? x.cpu.serverCpuPct : x.cpu.clientCpuPct).join('/')
  const rows: Row[] = [
    ['Echo, in-process node-pty (floor): p50 / p90 / p99 / max', '—', `${echo.floor.p50Ms} / ${echo.floor.p90Ms} / ${echo.floor.p99Ms} / ${echo.floor.maxMs} ms (${echo.floor.samples} keys)`, null],
    ['Echo through the server\'s WebSocket: p50 / p90 / p99 / max', '—', `${echo.server.p50Ms} / ${echo.server.p90Ms} / ${echo.server.p99Ms} / ${echo.server.maxMs} ms (${echo.server.samples} keys; server CPU ${echoCpu.serverCpuPct} %, other processes ${otherCpuDuringEchoPct} % of a core)`, null],
    ['WebSocket alone: `ping` → `pong` frame, p50 / p90 / p99 / max', '—', `${echo.wsPing.p50Ms} / ${echo.wsPing.p90Ms} / ${echo.wsPing.p99Ms} / ${echo.wsPing.maxMs} ms`, null],
    ['Echo p50: server − floor (median of per-key differences)', `≤ ${TARGET_ECHO_P50_OVER_FLOOR_MS} ms`, `${echoOverFloor} ms (${echo.pairedDiffP50Ms} ms)`, echoOverFloor <= TARGET_ECHO_P50_OVER_FLOOR_MS],
    [`\`cat\` ${file.bytes / MB} MB > /dev/null (page cache, for scale)`, '—', `${round(file.bytes / MB / devNullSeconds, 0)} MB/s`, null],
    [`\`cat\` ${file.bytes / MB} MB on a PTY read by \`script\` (C, no Node), median of ${scriptMBps.length}`, '—', scriptMBps.length === 0 ? 'not measured (no `script -c`)' : `${median(scriptMBps)} MB/s (${scriptMBps.join(', ')}; machine ${scriptMachineBusyPct.join('/')} % busy)`, null],
    [`\`cat\` ${file.bytes / MB} MB, in-process node-pty (floor), median of ${CAT_ROUNDS}`, '—', `${floorMBps} MB/s (${all(floorRounds)}; this process's CPU ${cpuText(floorRounds, 'client')} %, machine ${floorRounds.map((x) => x.cpu.machineBusyPct).join('/')} %)`, null],
    [`\`cat\` ${file.bytes / MB} MB through the server to one WebSocket client, median of ${CAT_ROUNDS}`, `≥ ${TARGET_CAT_MBPS} MB/s`, `${serverMBps} MB/s (${all(serverRounds)}; = ${round((serverMBps / floorMBps) * 100, 0)} % of the floor; server CPU ${cpuText(serverRounds, 'server')} %, client ${cpuText(serverRounds, 'client')} %, machine ${serverRounds.map((x) => x.cpu.machineBusyPct).join('/')} %)`, serverMBps >= TARGET_CAT_MBPS],
    ['… server peak RSS growth during each `cat`', '—', `${serverRounds.map((x) => `+${x.rss?.peakGrowthMiB ?? '?'}`).join(', ')} MiB (${serverRounds[0]?.rss?.peakFrom ?? '?'}); idle ${rssIdleMiB} MiB before, ${rssAfterMiB} MiB after`, null],
    ['Connect: socket open / `session` frame / prompt settled', '—', `${round(remote.openMs)} / ${round(remote.sessionFrameMs)} ms / +${round(serverSettleMs, 0)} ms (floor PTY +${round(floorSettleMs, 0)} ms; both include ≥ 500 ms of waiting for quiet)`, null],
  ]
  process.stdout.write(`${table(rows)}\n\n`)
  process.stdout.write(`${JSON.stringify({
    bench: 'terminal',
    date: new Date().toISOString(),
    machine: { ...machine, busyBeforePct: busyBefore },
    totalSeconds: r3((Date.now() - t0) / 1000),
    echo: { ...echo, serverOverFloorP50Ms: echoOverFloor, cpu: echoCpu, otherCpuDuringEchoPct, gapMs: ECHO_GAP_MS },
    cat: {
      fileBytes: file.bytes,
      lines: file.lines,
      devNullMBps: round(file.bytes / MB / devNullSeconds, 0),
      scriptMBps,
      scriptMachineBusyPct,
      floorMBps,
      serverMBps,
      serverPeakRssGrowthMiB: peakGrowth,
      floor: floorRounds,
      server: serverRounds,
    },
    connect: { openMs: round(remote.openMs), sessionFrameMs: round(remote.sessionFrameMs), serverSettleMs: round(serverSettleMs, 0), floorSettleMs: round(floorSettleMs, 0) },
    rss: { idleMiB: rssIdleMiB, afterMiB: rssAfterMiB },
  })}\n`)
}

const workdir = mkdtempSync(join(tmpdir(), 'agent-runtime-bench-terminal-'))
const cleanup: Array<() => Promise<void>> = []
const cleanUp = async (): Promise<void> => {
  await Promise.allSettled(cleanup.splice(0).map(async (close) => close()))
  await stopAllServers()
  rmSync(workdir, { recursive: true, force: true })
}

let interrupted = false
const interrupt = (): void => {
  if (interrupted) return
  interrupted = true
  log('interrupted: stopping the server and the PTY')
  cleanUp().finally(() => process.exit(130))
}
process.once('SIGINT', interrupt)
process.once('SIGTERM', interrupt)

try {
  await main(workdir, cleanup)
} catch (err) {
  log(`failed: ${(err as Error).stack ?? String(err)}`)
  process.exitCode = 1
} finally {
  await cleanUp()
}
