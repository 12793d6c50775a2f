import { spawn } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import type { BenchClient } from './http-client.js'
import { measureCpu, resetPeakRss, sampleRss, statusBytes } from './proc.js'
import type { ServerProcess } from './server-process.js'
import { openStalledStream, streamEvents, wallClockMs, type SseEvent } from './sse-client.js'
import { median, mib, percentile, round } from './stats.js'

export type Encoding = 'utf8' | 'base64'

const FINISHED = new Set(['completed', 'failed', 'timeout', 'cancelled'])
const SETTLE_MS = 250
const OUTPUT_HEAD = /^\{"stream":"(stdout|stderr)","offset":(\d+),"data":"/
const CURSOR = /^(\d+)\.(\d+)\.(\d+)$/

interface JobAnswer { jobId: string, status: string, stdoutBytes?: number }

/** Submits a shell job; resolves with its id as soon as it is accepted. */
export async function submitJob (client: BenchClient, command: string): Promise<string> {
  return (await client.json<JobAnswer>('POST', '/exec', { command }, [202])).jobId
}

/** Long-polls until the job has finished (tailLines=0 keeps each answer tiny). */
export async function waitFinished (client: BenchClient, jobId: string): Promise<JobAnswer> {
  for (;;) {
    const job = await client.json<JobAnswer>('GET', `/jobs/${jobId}?wait=60&tailLines=0`, undefined, [200])
    if (FINISHED.has(job.status)) return job
  }
}

/** Runs a job to its end and checks it completed with `bytes` on stdout; returns the id and seconds taken. */
export async function runOutputJob (client: BenchClient, command: string, bytes: number): Promise<{ jobId: string, seconds: number }> {
  const t0 = performance.now()
  const jobId = await submitJob(client, command)
  const job = await waitFinished(client, jobId)
  if (job.status !== 'completed' || job.stdoutBytes !== bytes) throw new Error(`job ${jobId} (${command}): ${job.status}, ${job.stdoutBytes} bytes`)
  return { jobId, seconds: (performance.now() - t0) / 1000 }
}

const stats = (values: readonly number[]) => ({
  p50Ms: round(percentile(values, 50)),
  p90Ms: round(percentile(values, 90)),
  p99Ms: round(percentile(values, 99)),
  minMs: round(Math.min(...values)),
  maxMs: round(Math.max(...values)),
})

/**
 * 0. How comparable the two clocks are: a child node process writes its wall clock
 * (timeOrigin + now) into a pipe; we subtract it from ours on arrival. Pipe delivery is tens
 * of microseconds, so a small non-negative minimum shows the latency method can be trusted.
 */
export async function clockCheck (samples = 50): Promise<{ samples: number, minMs: number, p50Ms: number }> {
  const script = `let i=0;const t=setInterval(()=>{process.stdout.write((performance.timeOrigin+performance.now()).toFixed(3)+'\\n');if(++i>=${samples})clearInterval(t)},5)`
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  const deltas: number[] = []
  let rest = ''
  try {
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      const now = wallClockMs()
      const lines = (rest + text).split('\n')
      rest = lines.pop() ?? ''
      for (const line of lines) deltas.push(now - Number(line))
    })
    await new Promise((resolve, reject) => child.once('exit', resolve).once('error', reject))
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
  }
  return { samples: deltas.length, minMs: round(Math.min(...deltas), 3), p50Ms: round(median(deltas), 3) }
}

/**
 * 1. First-byte latency: a job prints its wall clock every `intervalMs`; an SSE client on
 * /jobs/:id/events subtracts it from the arrival time of the chunk that carried the line. The job
 * waits before its first line so the client is connected; lines written before the stream opened
 * and the first `warmup` lines are dropped.
 */
export async function measureFirstByte (server: ServerProcess, client: BenchClient, samples: number, warmup: number, intervalMs: number) {
  const total = samples + warmup
  const js = `let i=0;setTimeout(()=>{const t=setInterval(()=>{console.log((performance.timeOrigin+performance.now()).toFixed(3));if(++i>=${total})clearInterval(t)},${intervalMs})},300)`
  const jobId = await submitJob(client, `'${process.execPath}' -e '${js}'`)
  let openedAt = Number.POSITIVE_INFINITY
  let rest = ''
  let outputEvents = 0
  let lines = 0
  const deltas: number[] = []
  await streamEvents({
    port: server.port,
    key: server.key,
    path: `/jobs/${jobId}/events`,
    keepData: true,
    onOpen: () => { openedAt = wallClockMs() },
    onEvent: (event: SseEvent) => {
      if (event.event !== 'output' || event.data === null) return
      const data = JSON.parse(event.data) as { stream: string, data: string }
      if (data.stream !== 'stdout') return
      outputEvents++
      const parts = (rest + data.data).split('\n')
      rest = parts.pop() ?? ''
      for (const line of parts) {
        lines++
        const writtenAt = Number(line)
        if (writtenAt >= openedAt) deltas.push(event.receivedAt - writtenAt)
      }
    },
  })
  const kept = deltas.slice(warmup)
  if (kept.length < samples * 0.9) throw new Error(`first-byte: only ${kept.length} of ${samples} samples`)
  return { samples: kept.length, intervalMs, linesPerEvent: round(lines / outputEvents), ...stats(kept) }
}

/**
 * Times GET /health every `intervalMs` until stopped: shows whether the server's event loop stays
 * free for other requests while it streams. `stop()` ends the loop and returns the timings.
 */
function pingHealth (client: BenchClient, intervalMs = 20): { stop: () => Promise<{ requests: number, p50Ms: number, maxMs: number }> } {
  const stopped = new AbortController()
  const times: number[] = []
  const loop = (async () => {
    while (!stopped.signal.aborted) {
      const t0 = performance.now()
      await client.send('GET', '/health')
      times.push(performance.now() - t0)
      await sleep(intervalMs, undefined, { signal: stopped.signal }).catch(() => {})
    }
  })().catch(() => { /* only informative; a failed ping must not outlive the phase */ })
  let result: Promise<{ requests: number, p50Ms: number, maxMs: number }> | undefined
  // Why: idempotent, so a `finally` can stop it and the caller still read the result.
  const stop = async () => {
    result ??= (async () => {
      stopped.abort()
      await loop
      return { requests: times.length, p50Ms: round(median(times)), maxMs: round(Math.max(...times)) }
    })()
    return result
  }
  return { stop }
}

/** Follows one stream's output events: checks offsets are contiguous and sums payload and JSON bytes. */
class OutputCounter {
  payloadBytes = 0
  dataFieldBytes = 0
  outputEvents = 0
  exitStatus: string | null = null
  firstOutputAt = Number.NaN
  readonly #next = { stdout: 0, stderr: 0 }

  readonly handle = (event: SseEvent): void => {
    if (event.event === 'output') {
      const head = OUTPUT_HEAD.exec(event.dataHead)
      const cursor = CURSOR.exec(event.id)
      if (!head || !cursor) throw new Error(`unexpected output event: id ${event.id}, data ${event.dataHead.slice(0, 80)}`)
      const stream = head[1] as 'stdout' | 'stderr'
      const offset = Number(head[2])
      if (offset !== this.#next[stream]) throw new Error(`${stream} gap: offset ${offset}, expected ${this.#next[stream]}`)
      const end = Number(stream === 'stdout' ? cursor[1] : cursor[2])
      this.payloadBytes += end - offset
      this.#next[stream] = end
      // The JSON string of the payload: the field minus its head and the closing `"}`.
      this.dataFieldBytes += event.dataBytes - head[0].length - 2
      if (this.outputEvents++ === 0) this.firstOutputAt = performance.now()
    } else if (event.event === 'exit') {
      this.exitStatus = (JSON.parse(event.dataHead) as { status: string }).status
    }
  }

  check (bytes: number): void {
    if (this.payloadBytes !== bytes || this.exitStatus !== 'completed') {
      throw new Error(`stream ended with ${this.payloadBytes} of ${bytes} bytes, exit ${this.exitStatus}`)
    }
  }
}

/** One SSE client reading a finished job from the start; payload MB/s with MB = 10^6 bytes. */
async function readOnce (server: ServerProcess, jobId: string, bytes: number, encoding: Encoding) {
  const counter = new OutputCounter()
  const summary = await streamEvents({
    port: server.port,
    key: server.key,
    path: `/jobs/${jobId}/events${encoding === 'base64' ? '?encoding=base64' : ''}`,
    onEvent: counter.handle,
  })
  counter.check(bytes)
  const seconds = (summary.endedAt - summary.startedAt) / 1000
  return { counter, summary, seconds }
}

/** 2. One client streams a finished job of `bytes` (utf8 or base64) while another times GET /health. */
export async function measureOneClient (server: ServerProcess, client: BenchClient, jobId: string, bytes: number, encoding: Encoding) {
  const cpu = measureCpu(server.pid)
  const health = pingHealth(client)
  const { counter, summary, seconds } = await readOnce(server, jobId, bytes, encoding).finally(health.stop)
  return {
    encoding,
    bytes,
    seconds: round(seconds, 3),
    MBps: round(bytes / 1e6 / seconds, 0),
    wireMBps: round(summary.wireBytes / 1e6 / seconds, 0),
    wireBytesPerPayloadByte: round(summary.wireBytes / bytes),
    jsonBytesPerPayloadByte: round(counter.dataFieldBytes / bytes),
    outputEvents: counter.outputEvents,
    firstOutputMs: round(counter.firstOutputAt - summary.startedAt, 1),
    healthDuringStream: await health.stop(),
    ...cpu(),
  }
}

/** 3. `clients` SSE clients read the same finished job at once. */
export async function measureFanOut (server: ServerProcess, jobId: string, bytes: number, clients: number, encoding: Encoding) {
  const cpu = measureCpu(server.pid)
  const runs = await Promise.all(Array.from({ length: clients }, async () => readOnce(server, jobId, bytes, encoding)))
  const start = Math.min(...runs.map((run) => run.summary.startedAt))
  const end = Math.max(...runs.map((run) => run.summary.endedAt))
  const seconds = (end - start) / 1000
  const perClient = runs.map((run) => bytes / 1e6 / run.seconds)
  const firstOutput = runs.map((run) => run.counter.firstOutputAt - start)
  return {
    clients,
    encoding,
    bytes,
    seconds: round(seconds, 3),
    aggregateMBps: round((bytes * clients) / 1e6 / seconds, 0),
    perClientMBps: { min: round(Math.min(...perClient), 1), median: round(median(perClient), 1), max: round(Math.max(...perClient), 1) },
    // How long the clients waited for their first output event, from the first request: fairness.
    firstOutputMs: { min: round(Math.min(...firstOutput), 1), median: round(median(firstOutput), 1), max: round(Math.max(...firstOutput), 1) },
    ...cpu(),
  }
}

/**
 * 4. A client that sends the SSE GET and never reads, while a job writes `bytes`: the server's
 * RSS before, at its peak (VmHWM after a reset, else 10 ms samples), with the client still
 * stalled after the job ended, and after the client went away; plus /health latency meanwhile.
 */
export async function measureStalledClient (server: ServerProcess, client: BenchClient, bytes: number, holdMs: number) {
  await runOutputJob(client, 'true', 0)
  await sleep(SETTLE_MS)
  const before = statusBytes(server.pid, 'VmRSS') ?? 0
  const hwmReset = resetPeakRss(server.pid)
  const sampler = sampleRss(server.pid)
  const t0 = performance.now()
  const jobId = await submitJob(client, `sleep 0.2; head -c ${bytes} /dev/zero`)
  const socket = await openStalledStream(server.port, server.key, `/jobs/${jobId}/events`)
  const health = pingHealth(client, 50)
  try {
    const job = await waitFinished(client, jobId)
    const jobSeconds = (performance.now() - t0) / 1000
    const healthDuringStall = await health.stop()
    if (job.status !== 'completed' || job.stdoutBytes !== bytes) throw new Error(`stall job: ${job.status}, ${job.stdoutBytes} bytes`)
    await sleep(holdMs)
    const stalled = statusBytes(server.pid, 'VmRSS') ?? 0
    const sampled = sampler.stop()
    const peak = hwmReset ? Math.max(statusBytes(server.pid, 'VmHWM') ?? 0, sampled) : sampled
    socket.destroy()
    await sleep(SETTLE_MS * 2)
    const after = statusBytes(server.pid, 'VmRSS') ?? 0
    return {
      bytes,
      jobSeconds: round(jobSeconds, 3),
      holdMs,
      rssBeforeMiB: mib(before),
      rssPeakMiB: mib(peak),
      rssPeakGrowthMiB: mib(peak - before),
      rssStalledMiB: mib(stalled),
      rssAfterCloseMiB: mib(after),
      peakFrom: hwmReset ? 'VmHWM' : 'VmRSS samples',
      healthDuringStall,
    }
  } finally {
    await health.stop()
    sampler.stop()
    socket.destroy()
  }
}
