import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { call, spawnServer, type ServerProcess } from '../helpers/cli-process.js'
import { killMatching } from '../helpers/processes.js'
import { makeStateDir, startServer, type TestServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

async function sha256OfStream (response: Response): Promise<{ hash: string, bytes: number }> {
  const hash = createHash('sha256')
  let bytes = 0
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    hash.update(chunk)
    bytes += chunk.length
  }
  return { hash: hash.digest('hex'), bytes }
}

describe('job output', () => {
  let server: TestServer
  before(async () => { server = await startServer({ maxInlineOutput: '1024' }) })
  after(async () => server.close())

  test('inline output keeps the end, reports byte totals and truncation, and never starts inside a character', async () => {
    const job = await server.finished(await server.submit({ command: 'i=0; while [ $i -lt 2000 ]; do printf "€"; i=$((i+1)); done' }))
    assert.equal(job.stdoutBytes, 6000)
    assert.equal(job.stdoutTruncated, true)
    assert.ok(job.stdout.length > 300)
    assert.match(job.stdout, /^€+$/)
    assert.equal(job.stderrBytes, 0)
    assert.equal(job.stderrTruncated, false)
  })

  test('a character split across writes is not shown half while running and is whole at the end', async () => {
    const id = await server.submit({ command: "printf 'a\\342\\202'; read x; printf '\\254b'" })
    const running = await waitFor(async () => {
      const job = (await server.api('GET', `/jobs/${id}`)).body
      return job.stdoutBytes === 3 ? job : undefined
    }, 'the first bytes')
    assert.equal(running.stdout, 'a')
    await server.api('POST', `/jobs/${id}/nudge`)
    const job = await server.finished(id)
    assert.equal(job.stdout, 'a€b')
  })

  test('invalid UTF-8 becomes U+FFFD inline while the raw route returns the exact bytes', async () => {
    const id = await server.submit({ command: "printf 'x\\377y'" })
    const job = await server.finished(id)
    assert.equal(job.stdout, 'x\uFFFDy')
    const raw = Buffer.from(await (await fetch(`${server.url}/jobs/${id}/stdout`, { headers: { 'x-api-key': server.key } })).arrayBuffer())
    assert.deepEqual([...raw], [0x78, 0xff, 0x79])
  })

  test("a finished job's answer shows what a background process appends after the end, and the same bytes when nothing changed", async () => {
    const flag = join(server.stateDir, `late-${Date.now()}`)
    const id = await server.submit({ command: `echo early; (while [ ! -e '${flag}' ]; do sleep 0.05; done; echo late) &` })
    const first = await server.finished(id)
    assert.equal(first.stdout, 'early\n')
    const same = await server.api('GET', `/jobs/${id}`)
    assert.deepEqual(same.body, first, 'unchanged output: the same answer')
    assert.equal(same.headers.get('content-type'), 'application/json; charset=utf-8')
    writeFileSync(flag, '')
    const later = await waitFor(async () => {
      const job = (await server.api('GET', `/jobs/${id}`)).body
      return job.stdout === 'early\nlate\n' ? job : undefined
    }, 'the line written after the end')
    assert.equal(later.stdoutBytes, 11)
    assert.equal(later.status, 'completed')
    assert.ok(later.lastOutputAt >= first.lastOutputAt)
  })

  test('tailLines returns only the last lines of each stream', async () => {
    const id = await server.submit({ command: 'for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done' })
    await server.finished(id)
    const { body } = await server.api('GET', `/jobs/${id}?tailLines=2`)
    assert.equal(body.stdout, 'out4\nout5\n')
    assert.equal(body.stderr, 'err4\nerr5\n')
    assert.equal(body.stdoutTruncated, true)
    assert.equal(body.stdoutBytes, 25)
  })

  test('stdoutOffset/stderrOffset return only new bytes and the next offsets, page by page', async () => {
    const id = await server.submit({ command: 'i=0; while [ $i -lt 300 ]; do echo "line $i"; i=$((i+1)); done; echo e >&2' })
    await server.finished(id)
    let offset = 0
    let text = ''
    for (let page = 0; page < 20; page++) {
      const { body } = await server.api('GET', `/jobs/${id}?stdoutOffset=${offset}&stderrOffset=0`)
      text += body.stdout
      assert.equal(body.stderr, 'e\n')
      assert.equal(body.stderrOffset, 2)
      offset = body.stdoutOffset
      if (!body.stdoutTruncated) break
    }
    const expected = Array.from({ length: 300 }, (_, i) => `line ${i}\n`).join('')
    assert.equal(text, expected)
    assert.equal(offset, Buffer.byteLength(expected))
  })

  test('the raw routes return exact bytes, honour Range and offset, and answer 416 past the end', async () => {
    const id = await server.submit({ command: 'printf 0123456789' })
    await server.finished(id)
    const get = async (query: string, headers: Record<string, string> = {}): Promise<Response> =>
      fetch(`${server.url}/jobs/${id}/stdout${query}`, { headers: { 'x-api-key': server.key, ...headers } })
    const whole = await get('')
    assert.equal(whole.status, 200)
    assert.equal(whole.headers.get('content-type'), 'application/octet-stream')
    assert.equal(await whole.text(), '0123456789')
    const range = await get('', { range: 'bytes=2-4' })
    assert.equal(range.status, 206)
    assert.equal(range.headers.get('content-range'), 'bytes 2-4/10')
    assert.equal(await range.text(), '234')
    assert.equal(await (await get('', { range: 'bytes=-3' })).text(), '789')
    assert.equal(await (await get('?offset=7')).text(), '789')
    assert.equal(await (await get('?offset=70')).text(), '')
    const multi = await get('?offset=1', { range: 'bytes=0-0,2-2' })
    assert.equal(multi.status, 200, 'a multi-range header is ignored')
    assert.equal(await multi.text(), '123456789')
    const beyond = await get('', { range: 'bytes=20-' })
    assert.equal(beyond.status, 416)
    assert.equal(beyond.headers.get('content-range'), 'bytes */10')
    const stderr = await fetch(`${server.url}/jobs/${id}/stderr`, { headers: { 'x-api-key': server.key } })
    assert.equal(stderr.status, 200)
    assert.equal(await stderr.text(), '')
  })

  test('GET /jobs lists newest first with limit and status filters, output capped at 64 KiB', async () => {
    const a = await server.submit({ command: 'echo a' })
    await server.finished(a)
    const b = await server.submit({ command: 'exit 1' })
    await server.finished(b)
    const list = (await server.api('GET', '/jobs?limit=2')).body as any[]
    assert.deepEqual(list.map((j) => j.jobId), [b, a])
    const failed = (await server.api('GET', '/jobs?status=failed')).body as any[]
    assert.ok(failed.every((j) => j.status === 'failed'))
    assert.ok(failed.some((j) => j.jobId === b))
  })
})

describe('large output', () => {
  let stateDir: string
  let server: ServerProcess
  before(async () => {
    stateDir = makeStateDir()
    server = await spawnServer(stateDir, ['--log-level', 'warn'])
  })
  after(async () => {
    await server.stop()
    killMatching(stateDir)
    rmSync(stateDir, { recursive: true, force: true })
  })

  const runToEnd = async (command: string): Promise<any> => {
    const { body: submitted } = await call(server, 'POST', '/exec', { command })
    return waitFor(async () => {
      const { body } = await call(server, 'GET', `/jobs/${submitted.jobId}?wait=60`)
      return body.status === 'running' || body.status === 'pending' ? undefined : body
    }, 'the job to finish', 120_000)
  }

  test('50 MB of output keeps server memory bounded and the raw route returns every byte', async (t) => {
    // Warm up the same code paths first, so that what is measured is growth with output size.
    const warmUp = await runToEnd('head -c 5242880 /dev/zero')
    await sha256OfStream(await fetch(`${server.url}/jobs/${warmUp.jobId}/stdout`, { headers: { 'x-api-key': server.key } }))
    const rssBefore = server.rss()
    const job = await runToEnd('head -c 52428800 /dev/zero | tr "\\0" "x"; echo')
    assert.equal(job.status, 'completed')
    assert.equal(job.stdoutBytes, 52428801)
    assert.equal(job.stdoutTruncated, true)
    assert.equal(Buffer.byteLength(job.stdout), 1024 * 1024)
    const response = await fetch(`${server.url}/jobs/${job.jobId}/stdout`, { headers: { 'x-api-key': server.key } })
    const { hash, bytes } = await sha256OfStream(response)
    assert.equal(bytes, 52428801)
    const expected = createHash('sha256')
    const chunk = Buffer.alloc(1024 * 1024, 'x')
    for (let i = 0; i < 50; i++) expected.update(chunk)
    assert.equal(hash, expected.update('\n').digest('hex'))
    const growthMb = (server.peakRss() - rssBefore) / 1024 / 1024
    t.diagnostic(`server peak memory growth: ${growthMb.toFixed(1)} MB`)
    assert.ok(growthMb < 40, `server peak memory grew by ${growthMb.toFixed(1)} MB`)
  })
})
