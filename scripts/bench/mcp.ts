// MCP benchmark: what the MCP endpoint adds to a job, measured in the same run on the same server
// (node dist/cli.js as its own process). One client, sequential, alternating each round:
// (a) `true` as a shell job through the REST API: POST /exec → GET /jobs/:id?wait until completed;
// (b) the MCP tool call run_command {"command":"true"} over Streamable HTTP through the SDK's client
// (one session, initialized once), until its result arrives; (c) an MCP ping in the same session,
// the transport's own round trip. Overhead = p50 of (b) − p50 of (a). Target: ≤ 2 ms.
// Then CPU per call, less sensitive to a busy machine than wall time: the same number of rounds of
// (a) alone, then of (b) alone, with the server's CPU time (/proc) and this client's (cpuUsage).
// Knobs: BENCH_MCP_ITERATIONS (200), BENCH_CLI, BENCH_SERVER_NODE_ARGS.
// Run: npm run build && npm run bench:mcp. Prints a markdown table, then one JSON line.
import { existsSync, statSync } from 'node:fs'
import { availableParallelism, loadavg, release } from 'node:os'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { BenchClient } from './lib/http-client.js'
import { waitForQuiet } from './lib/machine-probe.js'
import { cpuSeconds, measureCpu } from './lib/proc.js'
import { newestMtimeMs, runBench, startServer } from './lib/server-process.js'
import { median, percentile, round } from './lib/stats.js'
import { table, type Row } from './lib/report.js'

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..')
const CLI_PATH = resolve(process.env.BENCH_CLI ?? join(ROOT, 'dist', 'cli.js'))
// Why: lets a run profile the server, e.g. BENCH_SERVER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'.
const SERVER_NODE_ARGS = process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? []
const ITERATIONS = Number(process.env.BENCH_MCP_ITERATIONS ?? 200)
const WARMUP = 20
const QUIET_WAIT_MS = 20_000
const TARGET_OVERHEAD_MS = 2
const FINISHED = new Set(['completed', 'failed', 'timeout', 'cancelled'])

const log = (message: string): void => { process.stderr.write(`bench: ${message}\n`) }

/** `true` through POST /exec and GET ?wait until completed; the wall time in ms. */
async function restOnce (client: BenchClient): Promise<number> {
  const start = performance.now()
  const { jobId } = await client.json<{ jobId: string }>('POST', '/exec', { command: 'true' }, [202])
  for (;;) {
    const job = await client.json<{ status: string, error?: string }>('GET', `/jobs/${jobId}?wait=60&tailLines=0`, undefined, [200])
    if (FINISHED.has(job.status)) {
      if (job.status !== 'completed') throw new Error(`job ended ${job.status}: ${job.error ?? ''}`)
      return performance.now() - start
    }
  }
}

/** `true` through the run_command tool until its result arrives; the wall time in ms. */
async function mcpOnce (mcp: Client): Promise<number> {
  const start = performance.now()
  const answer = await mcp.callTool({ name: 'run_command', arguments: { command: 'true' } }) as { isError?: boolean, structuredContent?: { status?: string } }
  if (answer.isError === true || answer.structuredContent?.status !== 'completed') throw new Error(`run_command answered ${JSON.stringify(answer)}`)
  return performance.now() - start
}

/** One MCP ping round trip in the session; the wall time in ms. */
async function pingOnce (mcp: Client): Promise<number> {
  const start = performance.now()
  await mcp.ping()
  return performance.now() - start
}

/** Runs `round` `times` times; the server's and this client's CPU milliseconds per round. */
async function cpuPerRound (pid: number, times: number, round1: () => Promise<unknown>): Promise<{ serverMs: number, clientMs: number }> {
  const server = cpuSeconds(pid) ?? 0
  const client = process.cpuUsage()
  for (let i = 0; i < times; i++) await round1()
  const used = process.cpuUsage(client)
  return { serverMs: round((((cpuSeconds(pid) ?? 0) - server) * 1000) / times, 3), clientMs: round((used.user + used.system) / 1000 / times, 3) }
}

const stats = (values: number[]): { p50: number, p95: number, p99: number } =>
  ({ p50: round(median(values), 3), p95: round(percentile(values, 95), 3), p99: round(percentile(values, 99), 3) })

async function main (): Promise<void> {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first`)
  if (process.env.BENCH_CLI === undefined && newestMtimeMs(join(ROOT, 'src')) > statSync(CLI_PATH).mtimeMs) log('warning: src/ is newer than dist/; run `npm run build` to measure the current code')
  const backgroundBusyPct = await waitForQuiet(QUIET_WAIT_MS)
  const machine = { node: process.version, cores: availableParallelism(), kernel: release(), backgroundBusyPct, loadavg1m: round(loadavg()[0] ?? 0) }
  log(`machine ${backgroundBusyPct} % busy before the start, load average ${machine.loadavg1m}`)
  const server = await startServer(CLI_PATH, [], SERVER_NODE_ARGS)
  const rest = new BenchClient(server.port, server.key, 1)
  const transport = new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${server.port}/mcp`), { requestInit: { headers: { 'x-api-key': server.key } } })
  const mcp = new Client({ name: 'bench-mcp', version: '1.0.0' })
  try {
    await mcp.connect(transport)
    log(`${WARMUP} warm-up + ${ITERATIONS} measured rounds, each: \`true\` through REST, through run_command, then an MCP ping`)
    for (let i = 0; i < WARMUP; i++) { await restOnce(rest); await mcpOnce(mcp); await pingOnce(mcp) }
    const restMs: number[] = []
    const mcpMs: number[] = []
    const pingMs: number[] = []
    const stopCpu = measureCpu(server.pid)
    for (let i = 0; i < ITERATIONS; i++) {
      restMs.push(await restOnce(rest))
      mcpMs.push(await mcpOnce(mcp))
      pingMs.push(await pingOnce(mcp))
    }
    const cpu = stopCpu()
    log(`CPU: ${ITERATIONS} rounds of REST alone, then ${ITERATIONS} of run_command alone`)
    const restCpu = await cpuPerRound(server.pid, ITERATIONS, async () => restOnce(rest))
    const mcpCpu = await cpuPerRound(server.pid, ITERATIONS, async () => mcpOnce(mcp))
    const overheadMs = round(median(mcpMs) - median(restMs), 3)
    const results = { rest: stats(restMs), mcp: stats(mcpMs), ping: stats(pingMs), overheadP50Ms: overheadMs, overheadP95Ms: round(percentile(mcpMs, 95) - percentile(restMs, 95), 3), serverCpuPct: cpu.serverCpuPct, restCpu, mcpCpu }
    const rows: Row[] = [
      ['`true` as a shell job: POST /exec → GET ?wait sees completed (p50 / p95 / p99)', '—', `${results.rest.p50} / ${results.rest.p95} / ${results.rest.p99} ms`, null],
      ['`true` through MCP run_command, same run (p50 / p95 / p99)', '—', `${results.mcp.p50} / ${results.mcp.p95} / ${results.mcp.p99} ms`, null],
      ['MCP overhead: run_command p50 − REST p50 (p95 − p95)', `≤ ${TARGET_OVERHEAD_MS} ms`, `${overheadMs} ms (${results.overheadP95Ms} ms)`, overheadMs <= TARGET_OVERHEAD_MS],
      ['MCP ping round trip in the session (p50 / p95 / p99)', '—', `${results.ping.p50} / ${results.ping.p95} / ${results.ping.p99} ms`, null],
      ['Server CPU per call: REST job / run_command', '—', `${restCpu.serverMs} / ${mcpCpu.serverMs} ms`, null],
      ['Client CPU per call: REST (node:http) / run_command (MCP SDK client)', '—', `${restCpu.clientMs} / ${mcpCpu.clientMs} ms`, null],
    ]
    process.stdout.write(`${table(rows)}\n\n`)
    process.stdout.write(`${JSON.stringify({ bench: 'mcp', date: new Date().toISOString(), machine, iterations: ITERATIONS, ...results })}\n`)
  } finally {
    await transport.terminateSession().catch((err: unknown) => log(`ending the MCP session failed: ${(err as Error).message}`))
    await mcp.close()
    rest.close()
    await server.stop()
  }
}

await runBench(main)
