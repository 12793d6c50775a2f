import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { test } from 'node:test'
import { call, spawnServer } from '../helpers/cli-process.js'
import { killMatching } from '../helpers/processes.js'
import { makeStateDir } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

test('a stalled stream client (never reads) does not grow server memory while the job writes 200 MB', async (t) => {
  const dir = makeStateDir()
  const server = await spawnServer(dir, ['--log-level', 'warn'])
  let socket: Socket | undefined
  try {
    const { body } = await call(server, 'POST', '/exec', { command: 'sleep 0.5; head -c 209715200 /dev/zero' })
    const url = new URL(server.url)
    socket = connect(Number(url.port), url.hostname)
    socket.write(`GET /jobs/${body.jobId}/events HTTP/1.1\r\nHost: x\r\nX-API-Key: ${server.key}\r\n\r\n`)
    socket.pause() // never read: the kernel buffers fill and the server must stop reading the job's files
    const rssBefore = server.rss()
    const job = await waitFor(async () => {
      const { body: current } = await call(server, 'GET', `/jobs/${body.jobId}?wait=30`)
      return current.status === 'completed' ? current : undefined
    }, 'the job to finish', 120_000)
    assert.equal(job.stdoutBytes, 209715200)
    const growthMb = (server.peakRss() - rssBefore) / 1024 / 1024
    t.diagnostic(`server peak memory growth: ${growthMb.toFixed(1)} MB`)
    assert.ok(growthMb < 40, `server peak memory grew by ${growthMb.toFixed(1)} MB`)
    const health = await call(server, 'GET', '/health')
    assert.equal(health.status, 200, 'other clients are still served')
  } finally {
    socket?.destroy()
    await server.stop()
    killMatching(dir)
    rmSync(dir, { recursive: true, force: true })
  }
})
