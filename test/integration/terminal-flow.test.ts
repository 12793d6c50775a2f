import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'
import WebSocket from 'ws'
import { call, spawnServer } from '../helpers/cli-process.js'
import { waitFor } from '../helpers/wait.js'

const MiB = 1024 * 1024

test('flow control keeps server memory bounded while `yes … | head -c 500M` floods a client that reads slowly', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'term-flow-'))
  const server = await spawnServer(stateDir, ['--log-level', 'warn'])
  try {
    const socket = new WebSocket(`${server.url.replace(/^http/, 'ws')}/terminal?shell=/bin/sh`, { headers: { 'x-api-key': server.key } })
    let received = 0
    let tail = ''
    socket.on('message', (data: Buffer) => {
      received += data.length
      tail = (tail + data.toString('latin1')).slice(-200)
    })
    await new Promise((resolve, reject) => { socket.once('open', resolve); socket.once('error', reject) })
    const rssBefore = server.rss()
    // Why long lines: a PTY passes `yes`'s 2-byte lines at ~8 MB/s here, too slow to flood anything;
    // 1000-byte lines pass at ~70 MB/s, so a stalled client would see hundreds of MB without flow control.
    socket.send(JSON.stringify({ type: 'input', data: 'yes "$(head -c 999 /dev/zero | tr \'\\0\' y)" | head -c 500M; echo "flood-""done"\r' }))
    await waitFor(() => received > 4 * MiB, 'the flood to start', 30_000)

    // A reader that stops for three seconds, then reads in short bursts for five.
    socket.pause()
    await sleep(3000)
    let peakRss = server.rss()
    const readUntil = Date.now() + 5000
    while (Date.now() < readUntil) {
      socket.resume()
      await sleep(20)
      socket.pause()
      await sleep(20)
      peakRss = Math.max(peakRss, server.rss())
    }
    socket.resume()
    const growth = (peakRss - rssBefore) / MiB
    assert.ok(growth < 100, `server memory grew by ${growth.toFixed(0)} MiB`)
    assert.ok(!tail.includes('flood-done'), 'the flood was still going (the test measured a flood, not its end)')
    // The terminal ends mid-flood: the whole pipeline is killed.
    const { body } = await call(server, 'GET', '/terminals')
    const [terminal] = body.terminals
    // Why before the DELETE: the socket may close before the DELETE's answer is read.
    const closed = new Promise((resolve) => socket.once('close', resolve))
    assert.equal((await call(server, 'DELETE', `/terminals/${terminal.id}`)).status, 200)
    await closed
    assert.deepEqual((await call(server, 'GET', '/terminals')).body.terminals, [])
  } finally {
    await server.stop()
    rmSync(stateDir, { recursive: true, force: true })
  }
})
