import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import { pino } from 'pino'
import { loadConfig } from '../../src/config.js'
import { runServer } from '../../src/server.js'
import { freePort } from '../helpers/net.js'
import { makeStateDir } from '../helpers/server.js'

test("a failed accept ('error' on a listening server, main or terminal port) is logged and the server keeps serving", async () => {
  const lines: Array<{ level: number, msg?: string }> = []
  const sink = new Writable({
    write (chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line))
      callback()
    },
  })
  const stateDir = makeStateDir()
  const config = loadConfig({ port: '0', host: '127.0.0.1', stateDir, terminalPort: String(await freePort()) }, {})
  const running = await runServer(config, pino({ level: 'info' }, sink))
  try {
    const accept = Object.assign(new Error('accept EMFILE'), { code: 'EMFILE', syscall: 'accept' })
    assert.doesNotThrow(() => running.app.server.emit('error', accept))
    assert.doesNotThrow(() => running.app.terminalPortServer?.emit('error', accept))
    assert.deepEqual(lines.filter((line) => line.level === 50).map((line) => line.msg), [
      'server failed to accept a connection',
      'terminal port failed to accept a connection',
    ])
    assert.equal((await fetch(`${running.url}/health`)).status, 200)
  } finally {
    await running.close()
    rmSync(stateDir, { recursive: true, force: true })
  }
})
