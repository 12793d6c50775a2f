// Files benchmark: starts the real server (node dist/cli.js) as its own process on loopback and
// measures PUT /files (upload) and GET /files (download) of one big file with curl as the client,
// against `cp` of the same bytes on the same disk in the same run (the floor), and the server's
// peak RSS growth during each transfer, and the same transfers against a bare Node `http` server
// (lib/bare-file-server.mjs: the ceiling for Node, with no framework, auth or path checks). Run: npm run build && npx tsx scripts/bench/files.ts.
// Prints progress on stderr, a markdown table and then one JSON line on stdout.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, fsyncSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { once } from 'node:events'
import { waitForQuiet } from './lib/machine-probe.js'
import { resetPeakRss, statusBytes } from './lib/proc.js'
import { table, type Row } from './lib/report.js'
import { newestMtimeMs, runBench, startServer } from './lib/server-process.js'
import { median, mib, round } from './lib/stats.js'

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..')
const CLI_PATH = resolve(process.env.BENCH_CLI ?? join(ROOT, 'dist', 'cli.js'))
const MiB = 1024 * 1024
// Why the odd tail: the issue asks for a round trip of over 1 GiB, and a size no block divides catches a lost last chunk.
const FILE_BYTES = Number(process.env.BENCH_FILE_BYTES ?? 1024 * MiB + 4099)
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const BLOCK_BYTES = 16 * MiB
const TARGET_RATIO = 0.7
// Proposed in issue 13's notes: `cp` stays in the kernel, so a Node HTTP server is the reachable ceiling.
const CEILING_RATIO = 0.9
const TARGET_RSS_GROWTH_BYTES = 50 * 1000 * 1000
const QUIET_WAIT_MS = 20_000

const log = (message: string): void => { process.stderr.write(`bench: ${message}\n`) }
// Byte for byte, outside the timed steps.
const sameBytes = (a: string, b: string): boolean => spawnSync('cmp', ['-s', a, b]).status === 0
const mbps = (bytes: number, ms: number): number => round(bytes / 1e6 / (ms / 1000), 0)

function ensureBuilt (): void {
  if (process.env.BENCH_CLI !== undefined) return
  if (existsSync(CLI_PATH) && newestMtimeMs(join(ROOT, 'src')) <= statSync(CLI_PATH).mtimeMs) return
  log('dist/ is missing or older than src/: npm run build')
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 2, 2] })
}

/** Writes `bytes` of random data (a 16 MiB random block repeated: incompressible enough, quick to make) and fsyncs it. */
function makeFile (path: string, bytes: number): void {
  const block = randomBytes(BLOCK_BYTES)
  const fd = openSync(path, 'w')
  try {
    for (let written = 0; written < bytes; written += BLOCK_BYTES) writeSync(fd, block, 0, Math.min(BLOCK_BYTES, bytes - written))
    fsyncSync(fd)
  } finally { closeSync(fd) }
}

/** Runs a command to completion and returns its wall time in ms; throws when it fails. */
function timed (command: string, args: string[]): number {
  const t0 = performance.now()
  const result = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  const ms = performance.now() - t0
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr.toString().trim()}`)
  return ms
}

/** Starts lib/bare-file-server.mjs serving `root`; resolves with its process and base URL. */
async function startBareServer (root: string): Promise<{ child: ChildProcess, url: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'scripts/bench/lib/bare-file-server.mjs'), root], { stdio: ['ignore', 'pipe', 'inherit'] })
  const [line] = await once(child.stdout as NodeJS.ReadableStream, 'data') as [Buffer]
  return { child, url: `http://127.0.0.1:${Number(line.toString().trim())}/files?path=` }
}

/** Wall time of `work` and the server's peak RSS growth meanwhile (VmHWM after − VmRSS before). */
function withPeakRss (pid: number, work: () => number): { ms: number, growth: number | null } {
  const resettable = resetPeakRss(pid)
  const before = statusBytes(pid, 'VmRSS') ?? 0
  const ms = work()
  const peak = statusBytes(pid, 'VmHWM')
  return { ms, growth: resettable && peak !== null ? Math.max(0, peak - before) : null }
}

async function main (): Promise<void> {
  ensureBuilt()
  const dir = mkdtempSync(join(process.env.TMPDIR ?? tmpdir(), 'agent-runtime-bench-files-'))
  try {
    const busy = await waitForQuiet(QUIET_WAIT_MS)
    log(`machine ${busy.toFixed(0)} % busy before the run; writing a ${mib(FILE_BYTES)} MiB file`)
    const source = join(dir, 'source.bin')
    makeFile(source, FILE_BYTES)
    const server = await startServer(CLI_PATH, ['--files-root', dir])
    const url = `http://127.0.0.1:${server.port}/files?path=`
    const bare = await startBareServer(dir)
    const auth = ['-H', `X-API-Key: ${server.key}`]
    const cpMs: number[] = []
    const cpSyncMs: number[] = []
    const uploads: Array<{ ms: number, growth: number | null }> = []
    const downloads: Array<{ ms: number, growth: number | null }> = []
    const bareUpMs: number[] = []
    const bareDownMs: number[] = []
    for (let run = 1; run <= RUNS; run++) {
      log(`run ${run}/${RUNS}: cp`)
      cpMs.push(timed('cp', [source, join(dir, 'cp.bin')]))
      rmSync(join(dir, 'cp.bin'))
      // Why a second floor: an upload fsyncs before its rename; `cp` alone leaves the bytes in the page cache.
      cpSyncMs.push(timed('sh', ['-c', 'cp "$1" "$2" && sync "$2"', 'sh', source, join(dir, 'cp.bin')]))
      rmSync(join(dir, 'cp.bin'))
      log(`run ${run}/${RUNS}: upload (curl -T)`)
      uploads.push(withPeakRss(server.pid, () => timed('curl', ['-sf', '-o', '/dev/null', ...auth, '-T', source, `${url}uploaded.bin`])))
      if (!sameBytes(source, join(dir, 'uploaded.bin'))) throw new Error('the uploaded file differs from the source')
      log(`run ${run}/${RUNS}: download (curl -o)`)
      downloads.push(withPeakRss(server.pid, () => timed('curl', ['-sf', ...auth, '-o', join(dir, 'downloaded.bin'), `${url}source.bin`])))
      if (!sameBytes(source, join(dir, 'downloaded.bin'))) throw new Error('the downloaded file differs from the source')
      rmSync(join(dir, 'uploaded.bin'))
      rmSync(join(dir, 'downloaded.bin'))
      log(`run ${run}/${RUNS}: bare Node http server, upload and download`)
      bareUpMs.push(timed('curl', ['-sf', '-o', '/dev/null', '-T', source, `${bare.url}uploaded.bin`]))
      bareDownMs.push(timed('curl', ['-sf', '-o', join(dir, 'downloaded.bin'), `${bare.url}source.bin`]))
      if (!sameBytes(source, join(dir, 'downloaded.bin'))) throw new Error('the bare server sent other bytes')
      rmSync(join(dir, 'uploaded.bin'))
      rmSync(join(dir, 'downloaded.bin'))
    }
    await server.stop()
    bare.child.kill()
    const cp = median(cpMs)
    const cpSync = median(cpSyncMs)
    const up = median(uploads.map((u) => u.ms))
    const down = median(downloads.map((d) => d.ms))
    const growth = (list: Array<{ growth: number | null }>): number | null =>
      list.some((x) => x.growth === null) ? null : Math.max(...list.map((x) => x.growth as number))
    const bareUp = median(bareUpMs)
    const bareDown = median(bareDownMs)
    const upGrowth = growth(uploads)
    const downGrowth = growth(downloads)
    const rows: Row[] = [
      ['`cp` of the same file, same disk (the floor), median', '—', `${mbps(FILE_BYTES, cp)} MB/s (${round(cp, 0)} ms)`, null],
      ['`cp` + `sync` of the file (the floor of a durable write), median', '—', `${mbps(FILE_BYTES, cpSync)} MB/s (${round(cpSync, 0)} ms)`, null],
      ['Upload `PUT /files` (curl -T; fsync + rename included), median', `≥ ${TARGET_RATIO * 100} % of cp`, `${mbps(FILE_BYTES, up)} MB/s = ${round((cp / up) * 100, 0)} % of cp, ${round((cpSync / up) * 100, 0)} % of cp + sync`, cp / up >= TARGET_RATIO],
      ['Download `GET /files` (curl -o), median', `≥ ${TARGET_RATIO * 100} % of cp`, `${mbps(FILE_BYTES, down)} MB/s = ${round((cp / down) * 100, 0)} % of cp`, cp / down >= TARGET_RATIO],
      ['Bare Node `http` server upload (fsync + rename), median', '—', `${mbps(FILE_BYTES, bareUp)} MB/s (${round(bareUp, 0)} ms)`, null],
      ['Bare Node `http` server download, median', '—', `${mbps(FILE_BYTES, bareDown)} MB/s (${round(bareDown, 0)} ms)`, null],
      ['Upload against the bare Node server', `≥ ${CEILING_RATIO * 100} % of it`, `${round((bareUp / up) * 100, 0)} %`, bareUp / up >= CEILING_RATIO],
      ['Download against the bare Node server', `≥ ${CEILING_RATIO * 100} % of it`, `${round((bareDown / down) * 100, 0)} %`, bareDown / down >= CEILING_RATIO],
      ['Server peak RSS growth, upload (max of runs)', '< 50 MB', upGrowth === null ? 'n/a' : `${mib(upGrowth)} MiB`, upGrowth === null ? null : upGrowth < TARGET_RSS_GROWTH_BYTES],
      ['Server peak RSS growth, download (max of runs)', '< 50 MB', downGrowth === null ? 'n/a' : `${mib(downGrowth)} MiB`, downGrowth === null ? null : downGrowth < TARGET_RSS_GROWTH_BYTES],
    ]
    process.stdout.write(table(rows) + '\n')
    process.stdout.write(JSON.stringify({ bytes: FILE_BYTES, runs: RUNS, busyPct: busy, cpMs, cpSyncMs, uploadMs: uploads.map((u) => u.ms), downloadMs: downloads.map((d) => d.ms), bareUploadMs: bareUpMs, bareDownloadMs: bareDownMs, uploadRssGrowth: upGrowth, downloadRssGrowth: downGrowth }) + '\n')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

await runBench(main)
