import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { mkdtempSync, realpathSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServer, type TestServer } from '../helpers/server.js'

describe('POST /exec shell jobs', () => {
  let server: TestServer
  before(async () => { server = await startServer() })
  after(async () => server.close())

  test('echo answers 202 with a 12-hex job id and completes with its stdout', async () => {
    const response = await server.api('POST', '/exec', { command: 'echo hello-world' })
    assert.equal(response.status, 202)
    assert.equal(response.body.status, 'pending')
    assert.match(response.body.jobId, /^[0-9a-f]{12}$/)
    const job = await server.finished(response.body.jobId)
    assert.equal(job.status, 'completed')
    assert.equal(job.stdout, 'hello-world\n')
    assert.equal(job.exitCode, 0)
    assert.equal(job.timedOut, false)
    assert.equal(job.processAlive, false)
    assert.equal(typeof job.durationMs, 'number')
    assert.equal(typeof job.lastOutputAt, 'number')
    assert.equal(job.mode, 'shell')
  })

  test('a failing command ends failed with its exit code and stderr', async () => {
    const job = await server.finished(await server.submit({ command: 'echo oops >&2; exit 3' }))
    assert.equal(job.status, 'failed')
    assert.equal(job.exitCode, 3)
    assert.equal(job.signal, null)
    assert.equal(job.stderr, 'oops\n')
  })

  test('a command that is not found ends with exit code 127', async () => {
    const job = await server.finished(await server.submit({ command: 'no-such-command-xyz' }))
    assert.equal(job.status, 'failed')
    assert.equal(job.exitCode, 127)
    assert.match(job.stderr, /not found/)
  })

  test('a command killed by a signal reports the signal name', async () => {
    const job = await server.finished(await server.submit({ command: 'kill -9 $$' }))
    assert.equal(job.status, 'failed')
    assert.equal(job.signal, 'SIGKILL')
    assert.equal(job.exitCode, 137)
  })

  test('the env overlay is visible to the command', async () => {
    const job = await server.finished(await server.submit({ command: 'echo "$GREETING"', env: { GREETING: 'hi there' } }))
    assert.equal(job.stdout, 'hi there\n')
  })

  test('workdir sets the current directory; a relative one resolves against the server cwd', async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'wd-')))
    const job = await server.finished(await server.submit({ command: 'pwd', workdir: dir }))
    assert.equal(job.stdout, `${dir}\n`)
    const missing = await server.api('POST', '/exec', { command: 'pwd', workdir: join(dir, 'missing') })
    assert.equal(missing.status, 400)
    assert.equal(missing.body.code, 'WORKDIR_NOT_FOUND')
  })

  test('shell picks the program that runs the command', async () => {
    const job = await server.finished(await server.submit({ command: 'echo "$0" "$BASH"', shell: 'bash' }))
    assert.match(job.stdout, /bash/)
  })

  test('stdin is written to the command and closed with stdinEof', async () => {
    const job = await server.finished(await server.submit({ command: 'cat', stdin: 'line one\nline two\n', stdinEof: true }))
    assert.equal(job.stdout, 'line one\nline two\n')
    assert.equal(job.status, 'completed')
  })

  test('POST /jobs/:id/stdin writes to a running job and eof ends its input', async () => {
    const id = await server.submit({ command: 'cat' })
    const first = await server.api('POST', `/jobs/${id}/stdin`, { data: 'abc ' })
    assert.equal(first.status, 200)
    assert.equal(first.body.written, 4)
    await server.api('POST', `/jobs/${id}/stdin`, { data: 'déf', eof: true })
    const job = await server.finished(id)
    assert.equal(job.stdout, 'abc déf')
    const late = await server.api('POST', `/jobs/${id}/stdin`, { data: 'x' })
    assert.equal(late.status, 409)
    assert.equal(late.body.code, 'JOB_NOT_RUNNING')
    const wrong = await server.api('POST', `/jobs/${id}/stdin`, { data: 5 })
    assert.equal(wrong.status, 400)
  })

  test('writing to stdin after eof answers 409 STDIN_CLOSED', async () => {
    const id = await server.submit({ command: 'cat; sleep 5' })
    await server.api('POST', `/jobs/${id}/stdin`, { data: '', eof: true })
    const response = await server.api('POST', `/jobs/${id}/stdin`, { data: 'more' })
    assert.equal(response.status, 409)
    assert.equal(response.body.code, 'STDIN_CLOSED')
    await server.api('POST', `/jobs/${id}/kill`)
    await server.finished(id)
  })

  test('nudge sends a newline: read x; echo got:$x completes', async () => {
    const id = await server.submit({ command: 'read x; echo "got:$x"' })
    const nudge = await server.api('POST', `/jobs/${id}/nudge`)
    assert.equal(nudge.status, 200)
    assert.deepEqual(nudge.body, { nudged: true, processAlive: true })
    const job = await server.finished(id)
    assert.equal(job.stdout, 'got:\n')
    const again = await server.api('POST', `/jobs/${id}/nudge`)
    assert.deepEqual(again.body, { nudged: false, reason: 'process not running', processAlive: false })
    const missing = await server.api('POST', '/jobs/000000000000/nudge')
    assert.equal(missing.status, 404)
    assert.deepEqual(missing.body, { error: 'job not found', code: 'JOB_NOT_FOUND' })
  })

  test('GET /jobs/:id shows output while the job still runs', async () => {
    const id = await server.submit({ command: 'echo early; sleep 30' })
    const job = await waitForOutput(server, id, 'early\n')
    assert.equal(job.status, 'running')
    assert.equal(job.processAlive, true)
    assert.equal(typeof job.pid, 'number')
    await server.api('DELETE', `/jobs/${id}`)
    assert.equal((await server.finished(id)).status, 'cancelled')
  })

  test('wait long-polls until the job finishes', async () => {
    const id = await server.submit({ command: 'sleep 0.3; echo done' })
    const response = await server.api('GET', `/jobs/${id}?wait=20`)
    assert.equal(response.body.status, 'completed')
    assert.equal(response.body.stdout, 'done\n')
  })

  test('unknown job ids answer 404 job not found on every job route', async () => {
    for (const [method, path] of [['GET', '/jobs/nope'], ['GET', '/jobs/nope/stdout'], ['GET', '/jobs/nope/stderr'],
      ['POST', '/jobs/nope/kill'], ['DELETE', '/jobs/nope'], ['POST', '/jobs/nope/nudge']] as const) {
      const response = await server.api(method, path)
      assert.equal(response.status, 404, `${method} ${path}`)
      assert.equal(response.body.error, 'job not found')
    }
    const stdin = await server.api('POST', '/jobs/nope/stdin', { data: 'x' })
    assert.equal(stdin.status, 404)
  })
})

async function waitForOutput (server: TestServer, id: string, text: string): Promise<any> {
  for (let i = 0; i < 500; i++) {
    const job = (await server.api('GET', `/jobs/${id}`)).body
    if (job.stdout === text) return job
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`job ${id} never printed ${JSON.stringify(text)}`)
}
