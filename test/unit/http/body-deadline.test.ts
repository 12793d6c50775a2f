import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect, type AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, test } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import { registerBodyDeadline } from '../../../src/http/body-deadline.js'
import { parseAnswer } from '../../helpers/raw-http.js'

const DEADLINE_MS = 300
let app: FastifyInstance
let port: number

before(async () => {
  app = Fastify({ logger: false })
  registerBodyDeadline(app, DEADLINE_MS)
  app.post('/json', async (request) => ({ got: request.body }))
  await app.register(async (child) => {
    child.removeAllContentTypeParsers()
    child.addContentTypeParser('*', (_request, _payload, done) => { done(null) })
    child.put('/upload', { config: { streamsBody: true } }, async (request) => {
      let bytes = 0
      for await (const chunk of request.raw) bytes += (chunk as Buffer).length
      return { bytes }
    })
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  port = (app.server.address() as AddressInfo).port
})
after(() => app.close())

/** Sends `head` and `first`, waits `pauseMs`, sends `rest` (if the socket is still open), and returns what came back. */
async function trickle (head: string, first: string, pauseMs: number, rest: string): Promise<{ text: string, closed: boolean }> {
  const socket = connect(port, '127.0.0.1')
  socket.on('error', () => {})
  let text = ''
  socket.on('data', (chunk) => { text += chunk.toString() })
  const closed = once(socket, 'close')
  await once(socket, 'connect')
  socket.write(head + first)
  await sleep(pauseMs)
  if (!socket.destroyed && socket.writable) socket.end(rest)
  await closed
  return { text, closed: true }
}

test('a JSON body that does not arrive within the deadline gets 408 REQUEST_TIMEOUT and the connection is closed', async () => {
  const body = '{"command":"echo hi"}'
  const head = `POST /json HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`
  const { text } = await trickle(head, body.slice(0, 5), DEADLINE_MS * 4, body.slice(5))
  const answer = parseAnswer(text)
  assert.equal(answer.status, 408)
  assert.equal(JSON.parse(answer.body).code, 'REQUEST_TIMEOUT')
})

test('a body that arrives in time is answered normally', async () => {
  const body = '{"a":1}'
  const head = `POST /json HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`
  const answer = parseAnswer((await trickle(head, body, 0, '')).text)
  assert.equal(answer.status, 200)
  assert.deepEqual(JSON.parse(answer.body), { got: { a: 1 } })
})

test('a streamed upload (config.streamsBody) may take longer than the deadline', async () => {
  const head = 'PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nConnection: close\r\n\r\n'
  const answer = parseAnswer((await trickle(head, '12345', DEADLINE_MS * 4, '67890')).text)
  assert.equal(answer.status, 200)
  assert.deepEqual(JSON.parse(answer.body), { bytes: 10 })
})
