import { createHash } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { runJob } from './exec-phases.js'
import { BenchClient } from './http-client.js'
import { resetPeakRss, sampleRss, statusBytes } from './proc.js'
import type { ServerProcess } from './server-process.js'
import { mib, round } from './stats.js'

const IDLE_SETTLE_MS = 250

function zeroSha256 (bytes: number): string {
  const hash = createHash('sha256')
  const chunk = Buffer.alloc(1024 * 1024)
  for (let left = bytes; left > 0; left -= chunk.length) hash.update(left >= chunk.length ? chunk : chunk.subarray(0, left))
  return hash.digest('hex')
}

/** Runs `work` and reports the server's peak RSS growth over it (VmHWM after reset, else 10 ms samples). */
async function withRssGrowth<T> (pid: number, work: () => Promise<T>): Promise<{ value: T, seconds: number, rssGrowthMiB: number, peakFrom: string }> {
  const before = statusBytes(pid, 'VmRSS') ?? 0
  const hwmReset = resetPeakRss(pid)
  const sampler = sampleRss(pid)
  const t0 = performance.now()
  const value = await work()
  const seconds = (performance.now() - t0) / 1000
  const sampled = sampler.stop()
  const peak = hwmReset ? Math.max(statusBytes(pid, 'VmHWM') ?? 0, sampled) : sampled
  return { value, seconds, rssGrowthMiB: mib(peak - before), peakFrom: hwmReset ? 'VmHWM' : 'VmRSS samples' }
}

/** 5. A job writing `bytes` of zeros: write throughput and RSS growth, then the same bytes streamed back. */
export async function measureBigOutput (server: ServerProcess, bytes: number) {
  const client = new BenchClient(server.port, server.key, 2)
  try {
    const expectedSha = zeroSha256(bytes)
    await runJob(client, 'true')
    await sleep(IDLE_SETTLE_MS)
    const rssBeforeMiB = mib(statusBytes(server.pid, 'VmRSS') ?? 0)
    // Why: tailLines=0 keeps the poll answer tiny; without it every poll inlines 1 MiB of NULs (6 MiB of JSON).
    const write = await withRssGrowth(server.pid, async () => runJob(client, `head -c ${bytes} /dev/zero`, '&tailLines=0'))
    const job = write.value
    if (job.status !== 'completed' || job.stdoutBytes !== bytes) throw new Error(`big job: ${job.status}, ${job.stdoutBytes} bytes`)
    const read = await withRssGrowth(server.pid, async () => client.hashStream(`/jobs/${job.jobId}/stdout`))
    if (read.value.status !== 200 || read.value.bytes !== bytes || read.value.sha256 !== expectedSha) {
      throw new Error(`read-back: HTTP ${read.value.status}, ${read.value.bytes} bytes, sha256 ${read.value.sha256 === expectedSha ? 'ok' : 'wrong'}`)
    }
    // Extra: the plain job view (no tailLines) of that job, as a client that forgets tailLines gets it.
    const view = await withRssGrowth(server.pid, async () => client.send('GET', `/jobs/${job.jobId}`))
    return {
      bytes,
      rssBeforeMiB,
      writeSeconds: round(write.seconds, 3),
      writeMBps: round(bytes / 1e6 / write.seconds, 0),
      writeRssGrowthMiB: write.rssGrowthMiB,
      readSeconds: round(read.seconds, 3),
      readMBps: round(bytes / 1e6 / read.seconds, 0),
      readRssGrowthMiB: read.rssGrowthMiB,
      readSha256Ok: true,
      peakFrom: write.peakFrom,
      plainViewMs: round(view.seconds * 1000, 1),
      plainViewResponseMiB: mib(Buffer.byteLength(view.value.body)),
      plainViewRssGrowthMiB: view.rssGrowthMiB,
    }
  } finally {
    client.close()
  }
}
