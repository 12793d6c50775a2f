import { createReadStream, statSync } from 'node:fs'
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { Config } from '../config.js'
import type { Job } from '../contract/job.js'
import { Responses } from '../contract/responses.js'
import { Errors } from '../errors.js'
import { isSignalName } from '../exec/process-group.js'
import { OpenFiles } from '../output/open-files.js'
import { parseRange } from '../output/range.js'
import { START } from './streams.js'
import type { JobEventSource } from './event-source.js'
import { replyWithSse } from './stream-routes.js'
import { parseExecRequest } from './exec-request.js'
import type { JobManager } from './manager.js'
import { ExecQuery, JobParams, JobQuery, KillBody, ListQuery, PermissionBody, RawQuery, ResizeBody, StdinBody } from './schemas.js'
import { isFinished, type JobRecord } from './types.js'
import { jobView, type OutputSelection } from './view.js'

const LIST_INLINE_CAP_BYTES = 64 * 1024
const DEFAULT_LIST_LIMIT = 20
const IDEMPOTENCY_KEY_MAX_LENGTH = 256
const MAX_WAIT_SEC = 60

/** HTTP routes of jobs: submit, read, list, raw output, stdin, nudge, kill, ACP permission answers. */
export function registerJobRoutes (fastify: FastifyInstance, config: Config, jobs: JobManager, events: JobEventSource): void {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  const outputFiles = new OpenFiles()
  fastify.addHook('onClose', async () => outputFiles.close())
  const view = (job: JobRecord, select: OutputSelection): Job =>
    jobView(job, jobs.files(job.id), select, {
      processAlive: jobs.isRunning(job.id),
      // Why: a search of the whole queue; only pending jobs are in it.
      queuePosition: job.status === 'pending' ? jobs.queuePosition(job.id) : undefined,
      acp: jobs.acpLive(job.id),
    }, outputFiles)
  const requireJob = (id: string): JobRecord => {
    const job = jobs.get(id)
    if (!job) throw new Errors.JOB_NOT_FOUND()
    return job
  }
  // The job once it has finished, `waitSec` (at most a minute) passed, or the client left (`response` closed).
  const waitUntilFinished = async (id: string, waitSec: number, response: NodeJS.EventEmitter): Promise<JobRecord> => {
    // Why: a job being started may already have written output; its pid is known a moment later.
    const starting = jobs.starting(id)
    if (starting) await starting
    const job = requireJob(id)
    if (waitSec <= 0 || isFinished(job)) return job
    const aborted = new AbortController()
    const abort = (): void => aborted.abort()
    response.once('close', abort)
    try {
      await jobs.waitFinished(id, Math.min(waitSec, MAX_WAIT_SEC) * 1000, aborted.signal)
    } finally {
      // Why: an abort once the answer is sent only builds a DOMException and its stack (~50 µs a job).
      response.off('close', abort)
    }
    return requireJob(id)
  }

  app.post('/exec', { schema: { querystring: ExecQuery, response: Responses.exec } }, async (request, reply) => {
    const sse = request.query.stream === 'sse' || request.headers.accept?.includes('text/event-stream') === true
    const { wait } = request.query
    if (wait !== undefined && sse) throw new Errors.INVALID_REQUEST('wait cannot be combined with an event stream')
    const key = request.headers['idempotency-key']
    if (key !== undefined && (typeof key !== 'string' || key === '' || key.length > IDEMPOTENCY_KEY_MAX_LENGTH)) {
      throw new Errors.INVALID_REQUEST(`Idempotency-Key must be 1 to ${IDEMPOTENCY_KEY_MAX_LENGTH} characters`)
    }
    const spec = parseExecRequest(request.body, process.cwd())
    const { job, created } = jobs.submit(spec, key)
    if (sse) return replyWithSse(events, request, reply, job.id, START, request.query.encoding ?? 'utf8')
    if (wait === undefined) return reply.code(created ? 202 : 200).send({ jobId: job.id, status: created ? 'pending' : job.status })
    // Submit and wait in one request: the job as GET /jobs/:id?wait answers it; 200 once it has finished.
    const finished = await waitUntilFinished(job.id, wait, reply.raw)
    return reply.code(isFinished(finished) ? 200 : 202).send(view(finished, { maxBytes: config.maxInlineOutputBytes }))
  })

  app.get('/jobs', { schema: { querystring: ListQuery, response: Responses.jobList } }, async (request) => {
    const { limit = DEFAULT_LIST_LIMIT, status } = request.query
    const maxBytes = Math.min(LIST_INLINE_CAP_BYTES, config.maxInlineOutputBytes)
    return jobs.list(limit, status).map((job) => view(job, { maxBytes }))
  })

  app.get('/jobs/:id', { schema: { params: JobParams, querystring: JobQuery, response: Responses.job } }, async (request, reply) => {
    const { id } = request.params
    requireJob(id)
    const { wait, tailLines, stdoutOffset, stderrOffset } = request.query
    const job = await waitUntilFinished(id, wait ?? 0, reply.raw)
    return view(job, { maxBytes: config.maxInlineOutputBytes, tailLines, stdoutOffset, stderrOffset })
  })

  // Why transcript here: an ACP job's `acp.ndjson` (transcript: true) is served like its output.
  for (const stream of ['stdout', 'stderr', 'transcript'] as const) {
    app.get(`/jobs/:id/${stream}`, { schema: { params: JobParams, querystring: RawQuery, response: Responses.rawOutput } }, async (request, reply) => {
      requireJob(request.params.id)
      return sendRaw(reply, jobs.files(request.params.id)[stream], request.headers.range, request.query.offset)
    })
  }

  app.post('/jobs/:id/nudge', { schema: { params: JobParams, response: Responses.nudge } }, async (request, reply) => {
    requireJob(request.params.id)
    return reply.send(await jobs.nudge(request.params.id))
  })

  app.post('/jobs/:id/stdin', { schema: { params: JobParams, body: StdinBody, response: Responses.stdin } }, async (request) => {
    const eof = request.body.eof ?? false
    const written = await jobs.writeStdin(request.params.id, stdinBytes(request.body), eof)
    return { jobId: request.params.id, written, eof }
  })

  app.post('/jobs/:id/resize', { schema: { params: JobParams, body: ResizeBody, response: Responses.resize } }, async (request) => {
    const { cols, rows } = request.body
    await jobs.resize(request.params.id, cols, rows)
    return { jobId: request.params.id, cols, rows }
  })

  const kill = (id: string, signal: string | undefined): Record<string, unknown> => {
    if (signal !== undefined && !isSignalName(signal)) throw new Errors.INVALID_REQUEST(`unknown signal: ${signal}`)
    const { job, signalled } = jobs.kill(id, signal)
    return { jobId: job.id, status: job.status, signal: signalled }
  }
  app.post('/jobs/:id/kill', { schema: { params: JobParams, body: KillBody, response: Responses.kill } }, async (request) =>
    kill(request.params.id, request.body?.signal))
  app.delete('/jobs/:id', { schema: { params: JobParams, response: Responses.kill } }, async (request) => kill(request.params.id, undefined))

  app.post('/jobs/:id/permission', { schema: { params: JobParams, body: PermissionBody, response: Responses.permission } }, async (request) => {
    const { requestId, optionId } = request.body
    jobs.answerPermission(request.params.id, requestId, optionId)
    return { jobId: request.params.id, requestId, outcome: { outcome: 'selected', optionId } }
  })
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** The bytes of a POST /jobs/:id/stdin body: `data` as UTF-8 or `dataBase64` decoded, exactly one of them. */
function stdinBytes (body: { data?: string, dataBase64?: string }): string | Buffer {
  if (body.data !== undefined && body.dataBase64 !== undefined) throw new Errors.INVALID_REQUEST('send data or dataBase64, not both')
  if (body.dataBase64 !== undefined) {
    if (!BASE64.test(body.dataBase64)) throw new Errors.INVALID_REQUEST('dataBase64 must be standard base64 (A-Z a-z 0-9 + /, padded with =)')
    return Buffer.from(body.dataBase64, 'base64')
  }
  if (body.data === undefined) throw new Errors.INVALID_REQUEST("body must have required property 'data'")
  return body.data
}

function sendRaw (reply: FastifyReply, path: string, rangeHeader: string | undefined, offset: number | undefined): FastifyReply {
  let size = 0
  try { size = statSync(path).size } catch { /* no output yet */ }
  reply.header('accept-ranges', 'bytes').type('application/octet-stream')
  const range = parseRange(rangeHeader, size)
  if (range === 'unsatisfiable') {
    reply.header('content-range', `bytes */${size}`)
    throw new Errors.RANGE_NOT_SATISFIABLE(size)
  }
  if (range !== null) {
    reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${size}`)
    return sendFileBytes(reply, path, range.start, range.end)
  }
  return sendFileBytes(reply, path, Math.min(offset ?? 0, size), size - 1)
}

function sendFileBytes (reply: FastifyReply, path: string, start: number, end: number): FastifyReply {
  if (end < start) return reply.header('content-length', 0).send('')
  return reply.header('content-length', end - start + 1).send(createReadStream(path, { start, end }))
}
