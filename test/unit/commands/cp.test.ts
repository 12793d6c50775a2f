import assert from 'node:assert/strict'
import { PassThrough, Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { describe, test } from 'node:test'
import { parseCpEndpoint } from '../../../src/commands/cp.js'
import { progressBar } from '../../../src/commands/progress.js'

describe('agent-server cp helpers', () => {
  test('server:PATH is a server path, anything else a local one', () => {
    assert.deepEqual(parseCpEndpoint('server:/tmp/x'), { remote: true, path: '/tmp/x' })
    assert.deepEqual(parseCpEndpoint('server:'), { remote: true, path: '.' })
    assert.deepEqual(parseCpEndpoint('./server:x'), { remote: false, path: './server:x' })
    assert.deepEqual(parseCpEndpoint('dir/file'), { remote: false, path: 'dir/file' })
  })

  test('the progress line passes every byte through and ends with the total and the percentage', async () => {
    const screen = new PassThrough()
    let drawn = ''
    screen.on('data', (d: Buffer) => { drawn += d.toString() })
    const out: Buffer[] = []
    const sink = new PassThrough()
    sink.on('data', (d: Buffer) => out.push(d))
    await pipeline(Readable.from([Buffer.alloc(1024 * 1024), Buffer.alloc(1024 * 1024)]), progressBar(screen, 'x.bin', 2 * 1024 * 1024), sink)
    assert.equal(Buffer.concat(out).length, 2 * 1024 * 1024)
    assert.match(drawn, /x\.bin {2}2\.0 MiB \/ 2\.0 MiB {2}100%/)
    assert.ok(drawn.endsWith('\n'))
  })
})
