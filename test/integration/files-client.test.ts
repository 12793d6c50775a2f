import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { after, before, describe, test } from 'node:test'
import { RuntimeClient, RuntimeError } from '../../src/client/index.js'
import { CLI_PATH } from '../helpers/cli-process.js'
import { startServer, type TestServer } from '../helpers/server.js'

const MiB = 1024 * 1024

async function collect (stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk))
  return Buffer.concat(chunks)
}

describe('files client and agent-server cp', () => {
  let server: TestServer
  let client: RuntimeClient
  let remote: string
  let local: string
  before(async () => {
    remote = mkdtempSync(join(tmpdir(), 'files-remote-'))
    local = mkdtempSync(join(tmpdir(), 'files-local-'))
    server = await startServer({ filesRoot: remote })
    client = new RuntimeClient({ url: server.url, apiKey: server.key })
  })
  after(async () => {
    await server.close()
    rmSync(remote, { recursive: true, force: true })
    rmSync(local, { recursive: true, force: true })
  })

  test('upload takes bytes, Node streams and Web streams; download gives Web and Node streams of the same bytes', async () => {
    const bytes = randomBytes(3 * MiB)
    assert.deepEqual(await client.files.upload('a.bin', bytes, { mode: 0o600 }).then((r) => r.created), true)
    assert.equal(statSync(join(remote, 'a.bin')).mode & 0o777, 0o600)
    const second = await client.files.upload('a.bin', Readable.from([bytes.subarray(0, MiB), bytes.subarray(MiB)]))
    assert.equal(second.created, false)
    assert.ok(second.etag)
    const web = new ReadableStream<Uint8Array>({ start (c) { c.enqueue(bytes); c.close() } })
    await client.files.upload('b.bin', web)
    const download = await client.files.download('b.bin')
    assert.equal(download.size, bytes.length)
    assert.ok((await collect(download.body)).equals(bytes))
    const chunks: Buffer[] = []
    for await (const chunk of (await client.files.download('a.bin')).toNodeStream()) chunks.push(chunk as Buffer)
    assert.ok(Buffer.concat(chunks).equals(bytes))
    assert.ok(Buffer.from(await client.files.downloadBytes('a.bin')).equals(bytes))
    const part = await client.files.download('a.bin', { range: { start: 10, end: 19 } })
    assert.equal(part.status, 206)
    assert.ok((await collect(part.body)).equals(bytes.subarray(10, 20)))
  })

  test('If-Match with a stale ETag is a RuntimeError 412', async () => {
    const { etag } = await client.files.upload('c.txt', 'one')
    await client.files.upload('c.txt', 'two', { ifMatch: etag as string })
    await assert.rejects(client.files.upload('c.txt', 'three', { ifMatch: etag as string }), (err: unknown) => err instanceof RuntimeError && err.status === 412 && err.code === 'PRECONDITION_FAILED')
  })

  test('list, stat, mkdir, move, remove and tar both ways work through the client', async () => {
    assert.deepEqual(await client.files.mkdir('t/sub'), { path: join(remote, 't/sub'), created: true })
    await client.files.upload('t/sub/f.txt', 'f')
    assert.equal((await client.files.stat('t/sub/f.txt')).size, 1)
    assert.deepEqual((await client.files.list('t', { recursive: true })).entries.map((e) => e.name), ['sub', 'sub/f.txt'])
    await client.files.move('t/sub/f.txt', 't/g.txt')
    const tar = await client.files.downloadTar('t')
    const result = await client.files.uploadTar('t2', tar.body, { mkdir: true })
    assert.equal(result.entries, 3)
    assert.equal(readFileSync(join(remote, 't2/t/g.txt'), 'utf8'), 'f')
    await client.files.remove('t', { recursive: true })
    assert.equal(existsSync(join(remote, 't')), false)
    await assert.rejects(client.files.stat('t'), (err: unknown) => err instanceof RuntimeError && err.code === 'FILE_NOT_FOUND')
  })

  const cp = async (args: string[]): Promise<{ code: number | null, stderr: string }> => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI_PATH, 'cp', ...args], {
      env: { ...process.env, AGENT_RUNTIME_URL: server.url, AGENT_RUNTIME_API_KEY: server.key, AGENT_RUNTIME_HOME: server.stateDir },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const [code] = await once(child, 'exit') as [number | null]
    return { code, stderr }
  }

  test('agent-server cp copies a file to the server and back byte for byte, into an existing directory', async () => {
    const bytes = randomBytes(2 * MiB + 7)
    writeFileSync(join(local, 'up.bin'), bytes, { mode: 0o640 })
    mkdirSync(join(remote, 'inbox'))
    const up = await cp([join(local, 'up.bin'), `server:${join(remote, 'inbox')}`])
    assert.equal(up.code, 0, up.stderr)
    assert.ok(readFileSync(join(remote, 'inbox', 'up.bin')).equals(bytes))
    assert.equal(statSync(join(remote, 'inbox', 'up.bin')).mode & 0o777, 0o640)
    const down = await cp(['server:inbox/up.bin', join(local, 'down.bin')])
    assert.equal(down.code, 0, down.stderr)
    assert.ok(readFileSync(join(local, 'down.bin')).equals(bytes))
  })

  test('agent-server cp copies a directory tree both ways through tar', async () => {
    const tree = join(local, 'tree')
    mkdirSync(join(tree, 'empty'), { recursive: true })
    mkdirSync(join(tree, 'ünï'))
    writeFileSync(join(tree, 'ünï', 'x.txt'), 'x')
    symlinkSync('ünï/x.txt', join(tree, 'link'))
    const up = await cp([tree, `server:${join(remote, 'copied')}`])
    assert.equal(up.code, 0, up.stderr)
    assert.equal(readFileSync(join(remote, 'copied', 'ünï', 'x.txt'), 'utf8'), 'x')
    assert.equal(readlinkSync(join(remote, 'copied', 'link')), 'ünï/x.txt')
    assert.ok(statSync(join(remote, 'copied', 'empty')).isDirectory())
    mkdirSync(join(local, 'back'))
    const down = await cp(['server:copied', join(local, 'back')])
    assert.equal(down.code, 0, down.stderr)
    assert.equal(readFileSync(join(local, 'back', 'copied', 'ünï', 'x.txt'), 'utf8'), 'x')
    assert.ok(statSync(join(local, 'back', 'copied', 'empty')).isDirectory())
  })

  test('agent-server cp draws a progress line on a terminal', async (t) => {
    const { execFileSync } = await import('node:child_process')
    try { execFileSync('script', ['--version'], { stdio: 'ignore' }) } catch { t.skip('needs script(1) to give the CLI a terminal'); return }
    writeFileSync(join(local, 'tty.bin'), randomBytes(MiB))
    const command = [process.execPath, '--import', 'tsx', CLI_PATH, 'cp', join(local, 'tty.bin'), `server:${join(remote, 'tty.bin')}`].map((a) => `'${a}'`).join(' ')
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      env: { ...process.env, AGENT_RUNTIME_URL: server.url, AGENT_RUNTIME_API_KEY: server.key, AGENT_RUNTIME_HOME: server.stateDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let screen = ''
    child.stdout.on('data', (d: Buffer) => { screen += d.toString() })
    const [code] = await once(child, 'exit') as [number | null]
    assert.equal(code, 0, screen)
    assert.match(screen, /tty\.bin {2}1\.0 MiB \/ 1\.0 MiB {2}100%/)
    assert.ok(readFileSync(join(remote, 'tty.bin')).equals(readFileSync(join(local, 'tty.bin'))))
  })

  test('agent-server cp exits non-zero with the reason when the source is missing or neither side is remote', async () => {
    const missing = await cp(['server:no/such.txt', join(local, 'x')])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /no such file or directory/)
    assert.equal(existsSync(join(local, 'x')), false)
    const neither = await cp([join(local, 'a'), join(local, 'b')])
    assert.equal(neither.code, 2)
    assert.match(neither.stderr, /server:PATH/)
  })
})
