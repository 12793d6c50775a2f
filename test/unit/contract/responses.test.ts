import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import { JobSchema } from '../../../src/contract/job.js'
import { lazySerializerCompiler } from '../../../src/contract/lazy-serializer.js'
import { Responses, strictSchema } from '../../../src/contract/responses.js'

const job = {
  jobId: 'abc',
  status: 'completed',
  mode: 'shell',
  command: 'true',
  workdir: '/',
  submittedAt: 1.5,
  startedAt: 1.5,
  finishedAt: 2.25,
  lastOutputAt: null,
  processAlive: false,
  pid: 7,
  exitCode: 0,
  signal: null,
  durationMs: 750,
  timedOut: false,
  stdout: '',
  stdoutBytes: 0,
  stdoutTruncated: false,
  stderr: '',
  stderrBytes: 0,
  stderrTruncated: false,
}

test('an answer keeps every key in its order, and one the contract does not list comes last instead of being dropped', async () => {
  const app = Fastify()
  app.setSerializerCompiler(lazySerializerCompiler)
  const sent = { ...job, events: [{ type: 'x', timestamp: 1.25, data: { any: [1, { deep: true }] }, extra: 1 }], persistentShell: 'pwsh' }
  app.get('/job', { schema: { response: Responses.job } }, async () => sent)
  const response = await app.inject('/job')
  assert.equal(response.body, JSON.stringify(sent))
  await app.close()
})

test('an error answer keeps its extra keys (devpilot\'s 409 of POST /update)', async () => {
  const app = Fastify()
  app.setSerializerCompiler(lazySerializerCompiler)
  const refusal = { error: 'cannot update while ACP jobs are running', acp_jobs: 1, code: 'UPDATE_BLOCKED' }
  app.post('/update', { schema: { response: Responses.update } }, async (request, reply) => reply.code(409).send(refusal))
  assert.equal((await app.inject({ method: 'POST', url: '/update' })).body, JSON.stringify(refusal))
  await app.close()
})

test('the document sees the strict contract schema behind a route\'s lenient one', () => {
  assert.equal(strictSchema(Responses.job[200]), JobSchema)
  assert.equal((Responses.job[200] as { additionalProperties?: unknown }).additionalProperties, true)
  assert.equal(JobSchema.additionalProperties, false)
})

test('a value of another type than the contract says is sent as it is, never coerced', async () => {
  const app = Fastify()
  app.setSerializerCompiler(lazySerializerCompiler)
  const sent = { ...job, durationMs: 1.5, pid: '7', timedOut: 'no', exitCode: { odd: true } }
  app.get('/job', { schema: { response: Responses.job } }, async () => sent)
  assert.equal((await app.inject('/job')).body, JSON.stringify(sent))
  await app.close()
})
