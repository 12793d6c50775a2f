// ACP-job benchmark: the server's own cost for a whole ACP job against an instant agent.
// Measures, one at a time: (a) the agent alone, driven by a minimal client that spawns it, pipes
// initialize + session/new + session/prompt and waits for the prompt answer and its exit; (b) the
// same agent as an ACP job: POST /exec → GET /jobs/:id?wait until completed. Overhead = (b) − (a).
// Then a prompt in a warm session against a cold job (lib/acp-warm.ts).
// Run: npm run build && npm run bench:acp. Prints a markdown table, then one JSON line.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { availableParallelism, release, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { BenchClient } from './lib/http-client.js'
import { waitForQuiet } from './lib/machine-probe.js'
import { measureCpu } from './lib/proc.js'
import { newestMtimeMs, startServer, stopAllServers } from './lib/server-process.js'
import { median, percentile, round } from './lib/stats.js'
import { table, type Row } from './lib/report.js'
import { warmVsCold } from './lib/acp-warm.js'

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..')
const CLI_PATH = resolve(process.env.BENCH_CLI ?? join(ROOT, 'dist', 'cli.js'))
const AGENT = fileURLToPath(new URL('./lib/instant-acp-agent.mjs', import.meta.url))
const ITERATIONS = Number(process.env.BENCH_ACP_ITERATIONS ?? 50)
const WARMUP = 5
const QUIET_WAIT_MS = 20_000
const TARGET_OVERHEAD_MS = 50
const FINISHED = new Set(['completed', 'failed', 'timeout', 'cancelled'])

const log = (message: string): void => { process.stderr.write(`bench: ${message}\n`) }
const line = (message: object): string => JSON.stringify({ jsonrpc: '2.0', ...message }) + '\n'

/** (a) The agent's own time: spawn → prompt answered → exited, with every request piped at once. */
async function agentAlone (workdir: string): Promise<number> {
  const start = performance.now()
  const child = spawn(process.execPath, [AGENT], { cwd: workdir, stdio: ['pipe', 'pipe', 'ignore'] })
  child.stdin.write(line({ id: 0, method: 'initialize', params: { protocolVersion: 1 } }) +
    line({ id: 1, method: 'session/new', params: { cwd: workdir, mcpServers: [] } }) +
    line({ id: 2, method: 'session/prompt', params: { sessionId: 'bench', prompt: [{ type: 'text', text: 'x' }] } }))
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString()
    if (out.includes('"id":2')) child.stdin.end()
  })
  await once(child, 'exit')
  if (!out.includes('"stopReason":"end_turn"')) throw new Error(`the agent did not answer: ${out}`)
  return performance.now() - start
}

/** (b) The same agent as an ACP job, until a long-poll sees it completed. */
async function asJob (client: BenchClient, workdir: string): Promise<{ totalMs: number, stdout: string }> {
  const start = performance.now()
  const { jobId } = await client.json<{ jobId: string }>('POST', '/exec', { mode: 'acp', agent: `'${process.execPath}' '${AGENT}'`, prompt: 'x', workdir }, [202])
  for (;;) {
    const job = await client.json<{ status: string, stdout: string, acpError?: string }>('GET', `/jobs/${jobId}?wait=60`, undefined, [200])
    if (FINISHED.has(job.status)) {
      if (job.status !== 'completed') throw new Error(`the job ended ${job.status}: ${job.acpError ?? ''}`)
      return { totalMs: performance.now() - start, stdout: job.stdout }
    }
  }
}

const stats = (values: number[]): { p50: number, p90: number, min: number } =>
  ({ p50: round(median(values)), p90: round(percentile(values, 90)), min: round(Math.min(...values)) })

async function main (workdir: string): Promise<void> {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first`)
  if (process.env.BENCH_CLI === undefined && newestMtimeMs(join(ROOT, 'src')) > statSync(CLI_PATH).mtimeMs) log('warning: src/ is newer than dist/; run `npm run build` to measure the current code')
  const backgroundBusyPct = await waitForQuiet(QUIET_WAIT_MS)
  const machine = { node: process.version, cores: availableParallelism(), kernel: release(), backgroundBusyPct }
  const server = await startServer(CLI_PATH)
  const client = new BenchClient(server.port, server.key, 1)
  const alone: number[] = []
  const job: number[] = []
  try {
    log(`${WARMUP} warm-up + ${ITERATIONS} measured rounds, each: the agent alone, then the agent as a job`)
    for (let i = 0; i < WARMUP; i++) { await agentAlone(workdir); await asJob(client, workdir) }
    const stopCpu = measureCpu(server.pid)
    for (let i = 0; i < ITERATIONS; i++) {
      alone.push(await agentAlone(workdir))
      const result = await asJob(client, workdir)
      if (result.stdout !== 'ok') throw new Error(`unexpected stdout ${JSON.stringify(result.stdout)}`)
      job.push(result.totalMs)
    }
    const cpu = stopCpu()
    log('warm sessions: a prompt in a warm session against a cold job')
    const warm = await warmVsCold(client, workdir)
    const overhead = alone.map((a, i) => (job[i] as number) - a)
    const results = { alone: stats(alone), job: stats(job), overhead: stats(overhead), serverCpuPct: cpu.serverCpuPct }
    const rows: Row[] = [
      ['Instant agent alone: spawn → initialize, new, prompt answered → exit (p50 / p90)', '—', `${results.alone.p50} / ${results.alone.p90} ms`, null],
      ['Same agent as an ACP job: POST /exec → GET ?wait sees completed (p50 / p90)', '—', `${results.job.p50} / ${results.job.p90} ms`, null],
      ['ACP job overhead = job − agent alone, per round (p50 / p90)', `≤ ${TARGET_OVERHEAD_MS} ms (devpilot ≈ 6 s)`, `${results.overhead.p50} / ${results.overhead.p90} ms (server CPU ${cpu.serverCpuPct} %)`, results.overhead.p50 <= TARGET_OVERHEAD_MS],
      ...warm.rows,
    ]
    process.stdout.write(`${table(rows)}\n\n`)
    process.stdout.write(`${JSON.stringify({ bench: 'acp', date: new Date().toISOString(), machine, iterations: ITERATIONS, ...results, warm: warm.results })}\n`)
  } finally {
    client.agent.destroy()
    await server.stop()
  }
}

const workdir = mkdtempSync(join(tmpdir(), 'agent-runtime-bench-acp-'))
try {
  await main(workdir)
} catch (err) {
  log(`failed: ${(err as Error).stack ?? String(err)}`)
  process.exitCode = 1
} finally {
  await stopAllServers()
  rmSync(workdir, { recursive: true, force: true })
}
