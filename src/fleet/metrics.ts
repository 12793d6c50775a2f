import { createReadStream, statSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { JobManager } from '../jobs/manager.js'
import type { JobRecord } from '../jobs/types.js'
import type { TerminalRegistry } from '../terminal/registry.js'

// Larger ACP event files are not read for the permission counts.
const MAX_EVENTS_FILE_BYTES = 64 * 1024 * 1024

/** The server's Prometheus metrics, in a registry of their own (one per app). */
export class ServerMetrics {
  readonly registry = new Registry()
  readonly #jobsFinished: Counter<'mode' | 'status'>
  readonly #jobsSubmitted: Counter<'mode'>
  readonly #startLatency: Histogram<'mode'>
  readonly #duration: Histogram<'mode' | 'status'>
  readonly #outputBytes: Counter<'mode' | 'stream'>
  readonly #authFailures: Counter
  readonly #http: Histogram<'method' | 'route' | 'status'>
  // Why: finding a series from its labels on every request showed in profiles; routes are few.
  readonly #httpSeries = new Map<string, Histogram.Internal<'method' | 'route' | 'status'>>()
  readonly #permissions: Counter<'decision'>
  readonly #jobs: JobManager
  /** Gauges read at scrape time. */
  readonly gauges: Gauge[]

  constructor (jobs: JobManager, terminals: TerminalRegistry) {
    this.#jobs = jobs
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry, prefix: 'agent_runtime_' })
    this.#jobsSubmitted = new Counter({ name: 'agent_runtime_jobs_submitted_total', help: 'Jobs accepted, by mode', labelNames: ['mode'], registers })
    this.#jobsFinished = new Counter({ name: 'agent_runtime_jobs_finished_total', help: 'Jobs finished, by mode and final status (ACP runs are mode "acp")', labelNames: ['mode', 'status'], registers })
    this.#startLatency = new Histogram({
      name: 'agent_runtime_job_start_latency_seconds',
      help: 'From submission to start',
      labelNames: ['mode'],
      registers,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300],
    })
    this.#duration = new Histogram({
      name: 'agent_runtime_job_duration_seconds',
      help: 'From start to end, by mode and final status',
      labelNames: ['mode', 'status'],
      registers,
      buckets: [0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 14400],
    })
    this.#outputBytes = new Counter({ name: 'agent_runtime_job_output_bytes_total', help: 'Bytes jobs wrote to stdout and stderr', labelNames: ['mode', 'stream'], registers })
    this.#permissions = new Counter({
      name: 'agent_runtime_acp_permission_decisions_total',
      help: 'ACP permission requests, by decision (approve, reject, cancelled, …), counted when the run ends',
      labelNames: ['decision'],
      registers,
    })
    this.#authFailures = new Counter({ name: 'agent_runtime_auth_failures_total', help: 'Requests refused for a missing or wrong API key (401)', registers })
    this.#http = new Histogram({
      name: 'agent_runtime_http_request_duration_seconds',
      help: 'HTTP request durations by route',
      labelNames: ['method', 'route', 'status'],
      registers,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    })
    this.gauges = [
      new Gauge({ name: 'agent_runtime_jobs_running', help: 'Jobs running now', registers, collect () { this.set(jobs.stats().running) } }),
      new Gauge({ name: 'agent_runtime_jobs_pending', help: 'Jobs waiting for a slot', registers, collect () { this.set(jobs.stats().pending) } }),
      new Gauge({ name: 'agent_runtime_terminals', help: 'Terminal sessions open', registers, collect () { this.set(terminals.count) } }),
      new Gauge({
        name: 'agent_runtime_terminal_clients',
        help: 'Sockets attached to terminal sessions',
        registers,
        collect () { this.set(terminals.list().reduce((sum, info) => sum + info.clients, 0)) },
      }),
    ]
    jobs.onSubmitted((job) => this.#jobSubmitted(job))
  }

  /** A job was accepted: counts it, and counts its outcome, latency, duration and output when it finishes. */
  #jobSubmitted (job: JobRecord): void {
    this.#jobsSubmitted.inc({ mode: job.mode })
    // Why on the next turn: the long-polls waiting for this job are answered first (a metric is not worth their time).
    this.#jobs.onFinished(job.id, () => setImmediate(() => {
      try { this.#jobFinished(job.id) } catch { /* a metric must never break a job */ }
    }))
  }

  #jobFinished (id: string): void {
    const job = this.#jobs.get(id)
    if (!job) return
    this.#jobsFinished.inc({ mode: job.mode, status: job.status })
    if (job.startedAt !== null) {
      this.#startLatency.observe({ mode: job.mode }, Math.max(0, job.startedAt - job.submittedAt))
      if (job.finishedAt !== null) this.#duration.observe({ mode: job.mode, status: job.status }, Math.max(0, job.finishedAt - job.startedAt))
    }
    const files = this.#jobs.files(id)
    for (const stream of ['stdout', 'stderr'] as const) {
      const size = statSync(files[stream], { throwIfNoEntry: false })?.size ?? 0
      if (size > 0) this.#outputBytes.inc({ mode: job.mode, stream }, size)
    }
    if (job.mode === 'acp') this.#countPermissions(files.events).catch(() => { /* a metric must never break a job */ })
  }

  // Reads the run's events file off the event loop's critical path; only `permission` lines are parsed.
  async #countPermissions (path: string): Promise<void> {
    const size = statSync(path, { throwIfNoEntry: false })?.size ?? 0
    if (size === 0 || size > MAX_EVENTS_FILE_BYTES) return
    const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity })
    for await (const line of lines) {
      if (!line.includes('"permission"')) continue
      const event = JSON.parse(line) as { type?: string, data?: { decision?: unknown } }
      if (event.type === 'permission') this.#permissions.inc({ decision: String(event.data?.decision ?? 'unknown') })
    }
  }

  /** One HTTP request ended. */
  requestEnded (method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route} ${status}`
    let series = this.#httpSeries.get(key)
    if (series === undefined) {
      series = this.#http.labels({ method, route, status: String(status) })
      this.#httpSeries.set(key, series)
    }
    series.observe(seconds)
    if (status === 401) this.#authFailures.inc()
  }
}
