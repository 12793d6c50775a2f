import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { WebSocket } from 'ws'
import { collectEvents, readEvents, type StreamEvent } from '../helpers/sse.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

const stdoutOf = (events: StreamEvent[], encoding: 'utf8' | 'base64' = 'utf8'): Buffer =>
  Buffer.concat(events.filter((e) => e.event === 'output' && e.data.stream === 'stdout')
    .map((e) => Buffer.from(e.data.data, encoding === 'base64' ? 'base64' : 'utf8')))

describe('GET /jobs/:id/events (Server-Sent Events)', () => {
  let server: TestServer
  before(async () => { server = await startServer({ maxConcurrentJobs: '2' }) })
  after(async () => server.close())
  const eventsUrl = (id: string, query = ''): string => `${server.url}/jobs/${id}/events${query}`

  test('a finished job replays its lifecycle and output, then exit', async () => {
    const id = await server.submit({ command: 'echo out; echo err >&2; exit 3' })
    await server.finished(id)
    const events = await collectEvents(eventsUrl(id), server.key)
    assert.deepEqual(events.map((e) => e.event), ['status', 'status', 'output', 'output', 'status', 'exit'])
    assert.deepEqual(events.slice(0, 2).map((e) => e.data.status), ['pending', 'running'])
    assert.deepEqual(events[2]?.data, { stream: 'stdout', offset: 0, data: 'out\n' })
    assert.deepEqual(events[3]?.data, { stream: 'stderr', offset: 0, data: 'err\n' })
    assert.equal(events[4]?.data.status, 'failed')
    assert.deepEqual(events[5]?.data, { status: 'failed', exitCode: 3, signal: null, error: null })
    assert.ok(events.every((e) => e.id !== ''), 'every event has an id')
  })

  test('a running job streams live and the stream ends only after exit', async () => {
    const id = await server.submit({ command: 'for i in 1 2 3; do echo $i; sleep 0.1; done' })
    const events = await collectEvents(eventsUrl(id), server.key)
    assert.equal(stdoutOf(events).toString(), '1\n2\n3\n')
    assert.equal(events.at(-1)?.event, 'exit')
    assert.equal(events.at(-1)?.data.status, 'completed')
  })

  test('a pending job waits in the stream until it runs', async () => {
    const blockers = [await server.submit({ command: 'read x' }), await server.submit({ command: 'read x' })]
    const id = await server.submit({ command: 'echo finally' })
    const seen: StreamEvent[] = []
    const reading = (async () => { for await (const e of readEvents(eventsUrl(id), server.key)) seen.push(e) })()
    await waitFor(() => seen.length === 1, 'the pending status')
    assert.equal(seen[0]?.data.status, 'pending')
    for (const b of blockers) await server.api('POST', `/jobs/${b}/nudge`)
    await reading
    assert.equal(stdoutOf(seen).toString(), 'finally\n')
    assert.equal(seen.at(-1)?.event, 'exit')
  })

  test('the stream of a killed job ends with exit cancelled', async () => {
    const id = await server.submit({ command: 'echo started; sleep 30' })
    const seen: StreamEvent[] = []
    const reading = (async () => { for await (const e of readEvents(eventsUrl(id), server.key)) seen.push(e) })()
    await waitFor(() => seen.some((e) => e.event === 'output'), 'the first output')
    await server.api('POST', `/jobs/${id}/kill`)
    await reading
    assert.equal(seen.at(-1)?.event, 'exit')
    assert.equal(seen.at(-1)?.data.status, 'cancelled')
    assert.equal(stdoutOf(seen).toString(), 'started\n')
  })

  test('resume after a forced disconnect in the middle of 20 MB gives the exact bytes', async () => {
    const id = await server.submit({ command: 'head -c 20971520 /dev/urandom > data.bin; cat data.bin', workdir: server.stateDir })
    const received: Buffer[] = []
    let lastId = ''
    let bytes = 0
    const firstHalf = new AbortController()
    try {
      for await (const e of readEvents(eventsUrl(id, '?encoding=base64'), server.key, {}, firstHalf.signal)) {
        lastId = e.id
        if (e.event === 'output' && e.data.stream === 'stdout') {
          const chunk = Buffer.from(e.data.data, 'base64')
          assert.equal(e.data.offset, bytes, 'offsets are contiguous')
          received.push(chunk)
          bytes += chunk.length
        }
        if (bytes > 5 * 1024 * 1024) firstHalf.abort()
      }
    } catch (err) {
      assert.equal((err as Error).name, 'AbortError')
    }
    const rest = await collectEvents(eventsUrl(id, '?encoding=base64'), server.key, { 'last-event-id': lastId })
    assert.equal(rest.filter((e) => e.event === 'output')[0]?.data.offset, bytes, 'the resumed stream starts where the first stopped')
    const all = Buffer.concat([...received, stdoutOf(rest, 'base64')])
    const raw = Buffer.from(await (await fetch(`${server.url}/jobs/${id}/stdout`, { headers: { 'x-api-key': server.key } })).arrayBuffer())
    assert.equal(all.length, 20971520)
    assert.equal(createHash('sha256').update(all).digest('hex'), createHash('sha256').update(raw).digest('hex'))
    assert.equal(rest.at(-1)?.event, 'exit')
  })

  test('?since= resumes like Last-Event-ID, and a malformed one is a 400', async () => {
    const id = await server.submit({ command: 'echo one; echo two' })
    await server.finished(id)
    const events = await collectEvents(eventsUrl(id), server.key)
    const afterFirst = events.find((e) => e.event === 'status' && e.data.status === 'running')?.id as string
    const resumed = await collectEvents(eventsUrl(id, `?since=${afterFirst}`), server.key)
    assert.deepEqual(resumed, events.slice(events.findIndex((e) => e.id === afterFirst) + 1))
    const bad = await server.api('GET', `/jobs/${id}/events?since=garbage`)
    assert.equal(bad.status, 400)
    assert.equal((await server.api('GET', '/jobs/000000000000/events')).status, 404)
  })

  test('100 concurrent streams of one job all receive identical bytes', async () => {
    const id = await server.submit({ command: 'i=0; while [ $i -lt 20000 ]; do echo "line $i ✓"; i=$((i+1)); done' })
    const results = await Promise.all(Array.from({ length: 100 }, async () => stdoutOf(await collectEvents(eventsUrl(id), server.key))))
    const expected = Array.from({ length: 20000 }, (_, i) => `line ${i} ✓\n`).join('')
    for (const bytes of results) assert.equal(bytes.toString(), expected)
  })

  test('POST /exec?stream=sse submits and streams in one request; the job outlives a client that leaves', async () => {
    const response = await fetch(`${server.url}/exec?stream=sse`, {
      method: 'POST',
      headers: { 'x-api-key': server.key, 'content-type': 'application/json' },
      body: JSON.stringify({ command: 'echo streamed' }),
    })
    assert.equal(response.status, 200)
    assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/)
    const id = response.headers.get('x-job-id') as string
    assert.match(id, /^[0-9a-f]{12}$/)
    const text = await response.text()
    assert.match(text, /"data":"streamed\\n"/)
    assert.match(text, /event: exit/)

    const leaving = new AbortController()
    const second = await fetch(`${server.url}/exec`, {
      method: 'POST',
      headers: { 'x-api-key': server.key, accept: 'text/event-stream' },
      body: JSON.stringify({ command: 'sleep 0.3; echo still-ran' }),
      signal: leaving.signal,
    })
    const secondId = second.headers.get('x-job-id') as string
    leaving.abort()
    const job = await server.finished(secondId)
    assert.equal(job.stdout, 'still-ran\n')
  })
})

describe('GET /jobs/:id/stream (WebSocket)', () => {
  let server: TestServer
  before(async () => { server = await startServer() })
  after(async () => server.close())

  const wsUrl = (id: string, query = ''): string => `${server.url.replace('http', 'ws')}/jobs/${id}/stream${query}`
  const receive = (socket: WebSocket): Promise<{ events: StreamEvent[], code: number }> => new Promise((resolve, reject) => {
    const events: StreamEvent[] = []
    socket.on('message', (raw) => events.push(JSON.parse(raw.toString())))
    socket.on('close', (code) => resolve({ events, code }))
    socket.on('error', reject)
  })

  test('header auth: the socket gets the same events and closes 1000 after exit', async () => {
    const id = await server.submit({ command: 'echo ws' })
    const socket = new WebSocket(wsUrl(id), { headers: { 'x-api-key': server.key } })
    const { events, code } = await receive(socket)
    assert.equal(code, 1000)
    assert.equal(stdoutOf(events).toString(), 'ws\n')
    assert.equal(events.at(-1)?.event, 'exit')
  })

  test('a ticket works once; a second use and no auth at all are refused', async () => {
    const id = await server.submit({ command: 'echo ticket' })
    const { body } = await server.api('POST', '/terminal/tickets')
    assert.equal(body.expiresInSeconds, 30)
    const first = await receive(new WebSocket(wsUrl(id, `?ticket=${body.ticket}`)))
    assert.equal(stdoutOf(first.events).toString(), 'ticket\n')
    const reused = await receive(new WebSocket(wsUrl(id, `?ticket=${body.ticket}`)))
    assert.equal(reused.code, 3401)
    assert.deepEqual(reused.events, [])
  })

  test('first-message auth: nothing is sent before a valid auth message; a wrong key closes 3401', async () => {
    const id = await server.submit({ command: 'echo first-message' })
    const good = new WebSocket(wsUrl(id))
    good.on('open', () => good.send(JSON.stringify({ type: 'auth', key: server.key })))
    const ok = await receive(good)
    assert.equal(stdoutOf(ok.events).toString(), 'first-message\n')
    const bad = new WebSocket(wsUrl(id))
    bad.on('open', () => bad.send(JSON.stringify({ type: 'auth', key: 'wrong' })))
    const refused = await receive(bad)
    assert.equal(refused.code, 3401)
    assert.deepEqual(refused.events, [])
  })

  test('?since= resumes a socket; an unknown job refuses the upgrade with 404', async () => {
    const id = await server.submit({ command: 'echo a; echo b' })
    await server.finished(id)
    const all = await receive(new WebSocket(wsUrl(id), { headers: { 'x-api-key': server.key } }))
    const running = all.events.find((e) => e.data.status === 'running') as StreamEvent
    const resumed = await receive(new WebSocket(wsUrl(id, `?since=${running.id}`), { headers: { 'x-api-key': server.key } }))
    assert.deepEqual(resumed.events, all.events.slice(all.events.indexOf(running) + 1))
    const unknown = new WebSocket(wsUrl('000000000000'), { headers: { 'x-api-key': server.key } })
    const status = await new Promise<number>((resolve) => unknown.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)))
    assert.equal(status, 404)
  })

  test('the raw key in the URL is refused before the upgrade: 400 KEY_IN_URL', async () => {
    const id = await server.submit({ command: 'true' })
    for (const query of [`?key=${server.key}`, `?apiKey=${server.key}`, `?api_key=${server.key}`, '?token=x']) {
      const socket = new WebSocket(wsUrl(id, query))
      const refused = await new Promise<{ status: number, body: string }>((resolve, reject) => {
        socket.once('open', () => reject(new Error('the socket opened')))
        socket.once('error', () => {})
        socket.once('unexpected-response', (_request, response) => {
          let body = ''
          response.on('data', (chunk: Buffer) => { body += chunk.toString() })
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }))
        })
      })
      assert.equal(refused.status, 400)
      assert.equal(JSON.parse(refused.body).code, 'KEY_IN_URL')
    }
  })
})
