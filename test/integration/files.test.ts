import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test, type TestContext } from 'node:test'
import { pack } from 'tar-stream'
import { startServer, type TestServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

const MiB = 1024 * 1024

async function raw (server: TestServer, method: string, path: string, body?: Uint8Array | string, headers: Record<string, string> = {}): Promise<{ status: number, headers: Headers, bytes: Buffer }> {
  const response = await fetch(server.url + (path.startsWith('?') ? '/files' + path : path), { method, headers: { 'x-api-key': server.key, ...headers }, ...(body !== undefined ? { body: body as BodyInit } : {}) })
  return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) }
}

const q = (path: string, extra = ''): string => `?path=${encodeURIComponent(path)}${extra}`

async function tarOf (entries: Array<{ name: string, type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'fifo', linkname?: string, body?: string }>): Promise<Buffer> {
  const archive = pack()
  for (const entry of entries) {
    const { body = '', ...header } = entry
    archive.entry({ mode: 0o644, ...header, ...(header.type === 'directory' ? { mode: 0o755 } : {}) }, body)
  }
  archive.finalize()
  const chunks: Buffer[] = []
  for await (const chunk of archive) chunks.push(Buffer.from(chunk as Uint8Array))
  return Buffer.concat(chunks)
}

describe('files API', () => {
  let server: TestServer
  let dir: string
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'files-test-'))
    server = await startServer({ filesRoot: dir })
  })
  after(async () => {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('random binary files of 0 B, 1 B and 10 MiB round-trip byte for byte', async () => {
    for (const size of [0, 1, 10 * MiB]) {
      const bytes = randomBytes(size)
      const put = await raw(server, 'PUT', q(`rt-${size}.bin`), bytes)
      assert.equal(put.status, 201, put.bytes.toString())
      assert.ok(put.headers.get('etag'))
      const got = await raw(server, 'GET', q(join(dir, `rt-${size}.bin`)))
      assert.equal(got.status, 200)
      assert.equal(got.headers.get('content-length'), String(size))
      assert.ok(got.headers.get('last-modified'))
      assert.ok(got.bytes.equals(bytes), `${size} bytes equal`)
    }
    assert.equal((await raw(server, 'PUT', q('rt-1.bin'), 'x')).status, 204)
  })

  test('single ranges are served with 206 and unsatisfiable ones with 416', async () => {
    writeFileSync(join(dir, 'range.txt'), '0123456789')
    const cases: Array<[string, number, string]> = [['bytes=2-4', 206, '234'], ['bytes=7-', 206, '789'], ['bytes=-3', 206, '789'], ['bytes=5-100', 206, '56789'], ['bytes=0-0', 206, '0']]
    for (const [range, status, body] of cases) {
      const got = await raw(server, 'GET', q('range.txt'), undefined, { range })
      assert.equal(got.status, status, range)
      assert.equal(got.bytes.toString(), body, range)
    }
    const head = await raw(server, 'HEAD', q('range.txt'))
    assert.equal(head.status, 200)
    assert.equal(head.headers.get('content-length'), '10')
    assert.equal(head.bytes.length, 0)
    const partial = await raw(server, 'GET', q('range.txt'), undefined, { range: 'bytes=2-4' })
    assert.equal(partial.headers.get('content-range'), 'bytes 2-4/10')
    for (const range of ['bytes=10-', 'bytes=-0', 'bytes=5-2']) {
      const got = await raw(server, 'GET', q('range.txt'), undefined, { range })
      assert.equal(got.status, 416, range)
      assert.equal(got.headers.get('content-range'), 'bytes */10')
      assert.equal(JSON.parse(got.bytes.toString()).code, 'RANGE_NOT_SATISFIABLE')
    }
  })

  test('If-None-Match answers 304 and If-Match guards a replace', async () => {
    await raw(server, 'PUT', q('etag.txt'), 'one')
    const first = await raw(server, 'GET', q('etag.txt'))
    const etag = first.headers.get('etag') as string
    assert.equal((await raw(server, 'GET', q('etag.txt'), undefined, { 'if-none-match': etag })).status, 304)
    assert.equal((await raw(server, 'PUT', q('etag.txt'), 'two', { 'if-match': '"nope"' })).status, 412)
    assert.equal((await raw(server, 'PUT', q('etag.txt'), 'two', { 'if-match': etag })).status, 204)
    assert.equal(readFileSync(join(dir, 'etag.txt'), 'utf8'), 'two')
    assert.equal((await raw(server, 'GET', q('etag.txt'), undefined, { 'if-none-match': etag })).status, 200)
    const stale = await raw(server, 'PUT', q('etag.txt'), 'three', { 'if-match': etag })
    assert.equal(stale.status, 412)
    assert.equal(JSON.parse(stale.bytes.toString()).code, 'PRECONDITION_FAILED')
    assert.equal(readFileSync(join(dir, 'etag.txt'), 'utf8'), 'two')
    assert.equal((await raw(server, 'PUT', q('etag-new.txt'), 'x', { 'if-match': '*' })).status, 412)
  })

  test('a reader that started before an atomic replace reads the whole old file', async () => {
    const old = randomBytes(4 * MiB)
    await raw(server, 'PUT', q('swap.bin'), old)
    const response = await fetch(`${server.url}/files${q('swap.bin')}`, { headers: { 'x-api-key': server.key } })
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    const first = await reader.read()
    const fresh = randomBytes(4 * MiB)
    assert.equal((await raw(server, 'PUT', q('swap.bin'), fresh)).status, 204)
    const chunks = [Buffer.from(first.value as Uint8Array)]
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      chunks.push(Buffer.from(value))
    }
    assert.ok(Buffer.concat(chunks).equals(old))
    assert.ok(readFileSync(join(dir, 'swap.bin')).equals(fresh))
  })

  test('a download dropped mid-way closes the file on the server', async () => {
    const path = join(dir, 'dropped.bin')
    writeFileSync(path, randomBytes(8 * MiB))
    const openOnIt = (): number => readdirSync('/proc/self/fd').filter((fd) => {
      try { return readlinkSync(`/proc/self/fd/${fd}`) === path } catch { return false }
    }).length
    const aborter = new AbortController()
    const response = await fetch(`${server.url}/files${q('dropped.bin')}`, { headers: { 'x-api-key': server.key }, signal: aborter.signal })
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    await reader.read()
    assert.equal(openOnIt(), 1)
    aborter.abort()
    await reader.read().catch(() => {})
    await waitFor(() => openOnIt() === 0, 'the server to close the file')
  })

  test('an upload dropped mid-body leaves neither the file nor a temp file', async () => {
    const sub = join(dir, 'aborted')
    mkdirSync(sub)
    const port = new URL(server.url).port
    const req = httpRequest({ host: '127.0.0.1', port, method: 'PUT', path: `/files${q(join(sub, 'half.bin'))}`, headers: { 'x-api-key': server.key, 'content-length': String(8 * MiB) } })
    req.on('error', () => {})
    req.write(randomBytes(MiB))
    await waitFor(() => readdirSync(sub).length > 0, 'the temp file to appear')
    req.destroy()
    await waitFor(() => readdirSync(sub).length === 0, 'the temp file to be removed')
    assert.deepEqual(readdirSync(sub), [])
  })

  test('mode and mkdir=1 are applied, a missing parent without mkdir is 404, a directory is 400 with a hint', async () => {
    assert.equal((await raw(server, 'PUT', q('deep/a/b/x.sh', '&mkdir=1&mode=0750'), 'echo')).status, 201)
    assert.equal(statSync(join(dir, 'deep/a/b/x.sh')).mode & 0o777, 0o750)
    const missing = await raw(server, 'PUT', q('nope/x'), 'x')
    assert.equal(missing.status, 404)
    assert.equal(JSON.parse(missing.bytes.toString()).code, 'FILE_NOT_FOUND')
    const directory = await raw(server, 'GET', q('deep'))
    assert.equal(directory.status, 400)
    assert.match(JSON.parse(directory.bytes.toString()).error, /files\/list.*format=tar/)
    const absent = await raw(server, 'GET', q('absent.txt'))
    assert.equal(absent.status, 404)
    assert.deepEqual(JSON.parse(absent.bytes.toString()), { error: `no such file or directory: ${join(dir, 'absent.txt')}`, code: 'FILE_NOT_FOUND' })
  })

  test('list, stat, mkdir, move and delete work on real paths', async () => {
    assert.equal((await server.api('POST', '/files/mkdir', { path: 'ops/sub' })).status, 201)
    assert.equal((await server.api('POST', '/files/mkdir', { path: 'ops/sub' })).status, 200)
    writeFileSync(join(dir, 'ops/a.txt'), 'aaa')
    writeFileSync(join(dir, 'ops/sub/b.txt'), 'b')
    symlinkSync('a.txt', join(dir, 'ops/link'))
    const flat = await server.api('GET', `/files/list${q('ops')}`)
    assert.deepEqual(flat.body.entries.map((e: { name: string }) => e.name), ['a.txt', 'link', 'sub'])
    const link = flat.body.entries.find((e: { name: string }) => e.name === 'link')
    assert.equal(link.type, 'symlink')
    assert.equal(link.target, 'a.txt')
    const deep = await server.api('GET', `/files/list${q('ops', '&recursive=1')}`)
    assert.deepEqual(deep.body.entries.map((e: { name: string }) => e.name), ['a.txt', 'link', 'sub', 'sub/b.txt'])
    const limited = await server.api('GET', `/files/list${q('ops', '&recursive=1&limit=2')}`)
    assert.equal(limited.body.entries.length, 2)
    assert.equal(limited.body.truncated, true)
    assert.equal((await server.api('GET', `/files/list${q('ops/a.txt')}`)).body.code, 'NOT_A_DIRECTORY')
    const info = await server.api('GET', `/files/stat${q('ops/a.txt')}`)
    assert.equal(info.body.type, 'file')
    assert.equal(info.body.size, 3)
    assert.match(info.body.mode, /^0[0-7]{3}$/)
    assert.ok(info.body.etag)
    assert.equal((await server.api('POST', '/files/move', { from: 'ops/a.txt', to: 'ops/sub/b.txt' })).body.code, 'FILE_EXISTS')
    assert.equal((await server.api('POST', '/files/move', { from: 'ops/a.txt', to: 'ops/sub/b.txt', overwrite: true })).status, 200)
    assert.equal(readFileSync(join(dir, 'ops/sub/b.txt'), 'utf8'), 'aaa')
    assert.equal((await server.api('DELETE', `/files${q('ops/sub')}`)).body.code, 'DIRECTORY_NOT_EMPTY')
    assert.equal((await server.api('DELETE', `/files${q('ops', '&recursive=1')}`)).status, 204)
    assert.equal(existsSync(join(dir, 'ops')), false)
    assert.equal((await server.api('DELETE', `/files${q('ops')}`)).status, 404)
  })

  test('a tree with symlinks, empty dirs, modes and unicode names survives format=tar, tar -x and extract=1', async () => {
    const src = join(dir, 'tree')
    mkdirSync(join(src, 'empty'), { recursive: true })
    mkdirSync(join(src, 'ünïcødé 目录'))
    writeFileSync(join(src, 'ünïcødé 目录', 'файл.bin'), randomBytes(1000))
    writeFileSync(join(src, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 })
    symlinkSync('run.sh', join(src, 'alias'))
    const tarBytes = (await raw(server, 'GET', q('tree', '&format=tar'))).bytes
    const out = mkdtempSync(join(tmpdir(), 'files-untar-'))
    try {
      execFileSync('tar', ['-x', '-C', out], { input: tarBytes })
      const check = (root: string): void => {
        assert.ok(statSync(join(root, 'empty')).isDirectory())
        assert.ok(readFileSync(join(root, 'ünïcødé 目录', 'файл.bin')).equals(readFileSync(join(src, 'ünïcødé 目录', 'файл.bin'))))
        assert.equal(statSync(join(root, 'run.sh')).mode & 0o777, 0o755)
        assert.equal(readlinkSync(join(root, 'alias')), 'run.sh')
      }
      check(join(out, 'tree'))
      const put = await raw(server, 'PUT', q('copy', '&extract=1&mkdir=1'), tarBytes, { 'content-type': 'application/x-tar' })
      assert.equal(put.status, 200)
      check(join(dir, 'copy', 'tree'))
    } finally {
      rmSync(out, { recursive: true, force: true })
    }
  })

  test('every escaping entry of a hostile tar is refused and nothing is written outside', async () => {
    const target = join(dir, 'victim')
    const outside = join(dir, 'outside')
    mkdirSync(target)
    mkdirSync(outside)
    const hostile = [
      [{ name: '../outside/evil', body: 'x' }],
      [{ name: `${outside}/evil`, body: 'x' }],
      [{ name: 'out', type: 'symlink' as const, linkname: '../outside' }, { name: 'out/evil', body: 'x' }],
      [{ name: 'abs', type: 'symlink' as const, linkname: '/etc/passwd' }],
      [{ name: 'hard', type: 'link' as const, linkname: '/etc/passwd' }],
      [{ name: 'dev', type: 'character-device' as const }],
      [{ name: 'fifo', type: 'fifo' as const }],
    ]
    for (const entries of hostile) {
      const put = await raw(server, 'PUT', q('victim', '&extract=1'), await tarOf(entries), { 'content-type': 'application/x-tar' })
      assert.equal(put.status, 400, JSON.stringify(entries))
      assert.equal(JSON.parse(put.bytes.toString()).code, 'UNSAFE_ARCHIVE_ENTRY')
    }
    assert.deepEqual(readdirSync(outside), [])
    assert.deepEqual(readdirSync(target), [])
    symlinkSync(outside, join(target, 'planted'))
    const through = await raw(server, 'PUT', q('victim', '&extract=1'), await tarOf([{ name: 'planted/evil', body: 'x' }]), { 'content-type': 'application/x-tar' })
    assert.equal(through.status, 400)
    assert.deepEqual(readdirSync(outside), [])
  })

  test('format=tar of a single file is a tar holding that file under its name', async () => {
    writeFileSync(join(dir, 'single.txt'), 'single')
    const tarBytes = (await raw(server, 'GET', q('single.txt', '&format=tar'))).bytes
    assert.equal(execFileSync('tar', ['-xO', 'single.txt'], { input: tarBytes }).toString(), 'single')
    assert.equal((await raw(server, 'GET', q('missing', '&format=tar'))).status, 404)
  })

  test('a truncated or refused archive is answered 400 at once and leaves the directory as it was', async () => {
    mkdirSync(join(dir, 'intact'))
    writeFileSync(join(dir, 'intact', 'old.txt'), 'old')
    const whole = await tarOf([{ name: 'old.txt', body: 'new' }, { name: 'big.txt', body: 'b'.repeat(5000) }])
    const truncated = await raw(server, 'PUT', q('intact', '&extract=1'), whole.subarray(0, 2048), { 'content-type': 'application/x-tar' })
    assert.equal(truncated.status, 400)
    assert.equal(JSON.parse(truncated.bytes.toString()).code, 'UNSAFE_ARCHIVE_ENTRY')
    const refused = await raw(server, 'PUT', q('intact', '&extract=1'), await tarOf([{ name: 'old.txt', body: 'new' }, { name: '../out.txt', body: 'x' }]), { 'content-type': 'application/x-tar' })
    assert.equal(refused.status, 400)
    assert.deepEqual(readdirSync(join(dir, 'intact')), ['old.txt'])
    assert.equal(readFileSync(join(dir, 'intact', 'old.txt'), 'utf8'), 'old')
    assert.equal(existsSync(join(dir, 'out.txt')), false)
  })

  test('an extract without the tar Content-Type is refused', async () => {
    const put = await raw(server, 'PUT', q('.', '&extract=1'), 'not a tar')
    assert.equal(put.status, 400)
    assert.equal(JSON.parse(put.bytes.toString()).code, 'INVALID_REQUEST')
  })

  test('files routes need the API key', async () => {
    for (const [method, path] of [['GET', `/files${q('x')}`], ['PUT', `/files${q('x')}`], ['GET', `/files/list${q('.')}`], ['DELETE', `/files${q('x')}`]]) {
      const response = await fetch(server.url + (path as string), { method: method as string, ...(method === 'PUT' ? { body: 'x' } : {}) })
      assert.equal(response.status, 401, `${method} ${path}`)
    }
    assert.equal(existsSync(join(dir, 'x')), false)
  })
})

describe('files API with --files-confine and --max-upload-bytes', () => {
  let server: TestServer
  let base: string
  let root: string
  before(async () => {
    base = mkdtempSync(join(tmpdir(), 'files-confine-'))
    root = join(base, 'root')
    mkdirSync(join(base, 'secret'), { recursive: true })
    mkdirSync(root)
    writeFileSync(join(base, 'secret', 'key'), 'secret')
    symlinkSync(join(base, 'secret'), join(root, 'escape'))
    symlinkSync('../secret/key', join(root, 'keylink'))
    server = await startServer({ filesRoot: root, filesConfine: 'true', maxUploadBytes: '1024' })
  })
  after(async () => {
    await server.close()
    rmSync(base, { recursive: true, force: true })
  })

  test('paths that leave the root through .., absolute paths or symlinks are refused with 403', async () => {
    for (const path of ['../secret/key', join(base, 'secret', 'key'), 'escape/key', 'keylink', 'escape/new.txt']) {
      const got = await raw(server, 'GET', q(path))
      assert.equal(got.status, 403, path)
      assert.equal(JSON.parse(got.bytes.toString()).code, 'PATH_OUTSIDE_ROOT')
    }
    assert.equal((await raw(server, 'PUT', q('escape/new.txt'), 'x')).status, 403)
    assert.equal(existsSync(join(base, 'secret', 'new.txt')), false)
    assert.equal((await server.api('POST', '/files/move', { from: 'keylink', to: 'stolen' })).status, 403)
    assert.equal((await raw(server, 'PUT', q('inside.txt'), 'ok')).status, 201)
  })

  test('an upload over --max-upload-bytes is 413 and leaves nothing', async () => {
    const got = await raw(server, 'PUT', q('big.bin'), randomBytes(2048))
    assert.equal(got.status, 413)
    assert.equal(JSON.parse(got.bytes.toString()).code, 'UPLOAD_TOO_LARGE')
    assert.deepEqual(readdirSync(root).filter((name) => name.includes('big')), [])
  })

  test('an upload over the limit without Content-Length is cut at the limit and leaves nothing', async () => {
    const body = new ReadableStream<Uint8Array>({
      start (controller) {
        controller.enqueue(randomBytes(1000))
        controller.enqueue(randomBytes(1000))
        controller.close()
      },
    })
    const response = await fetch(`${server.url}/files${q('chunked.bin')}`, { method: 'PUT', headers: { 'x-api-key': server.key }, body, duplex: 'half' } as RequestInit)
    assert.equal(response.status, 413)
    assert.deepEqual(readdirSync(root).filter((name) => name.includes('chunked')), [])
  })
})

/** Runs `work` on a 1 MiB tmpfs mounted on a new folder (unmounted and removed after); skips without root or mount. */
async function onTmpfs (t: TestContext, work: (mount: string) => Promise<void>): Promise<void> {
  if (process.getuid?.() !== 0) { t.skip('needs root to mount a small tmpfs'); return }
  const mount = mkdtempSync(join(tmpdir(), 'files-tmpfs-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mount])
  } catch (err) {
    rmSync(mount, { recursive: true, force: true })
    t.skip(`cannot mount a tmpfs: ${(err as Error).message.split('\n')[0]}`)
    return
  }
  try {
    await work(mount)
  } finally {
    execFileSync('umount', [mount])
    rmSync(mount, { recursive: true, force: true })
  }
}

/** The tmpfs still holds only keep.txt, with its old contents. */
function assertUntouched (mount: string): void {
  assert.equal(readFileSync(join(mount, 'keep.txt'), 'utf8'), 'old contents')
  assert.deepEqual(readdirSync(mount), ['keep.txt'])
}

describe('files API on a full or read-only disk', () => {
  test('a write that fills the disk answers 507 and leaves the old file intact', async (t) => {
    await onTmpfs(t, async (mount) => {
      const server = await startServer({ filesRoot: mount })
      try {
        writeFileSync(join(mount, 'keep.txt'), 'old contents')
        const got = await raw(server, 'PUT', q('keep.txt'), randomBytes(2 * MiB))
        assert.equal(got.status, 507)
        assert.equal(JSON.parse(got.bytes.toString()).code, 'NO_SPACE')
        assertUntouched(mount)
      } finally {
        await server.close()
      }
    })
  })

  test('a read-only file system answers 403 FILE_PERMISSION_DENIED naming the path, and changes nothing', async (t) => {
    await onTmpfs(t, async (mount) => {
      writeFileSync(join(mount, 'keep.txt'), 'old contents')
      execFileSync('mount', ['-o', 'remount,ro', mount])
      const server = await startServer({ filesRoot: mount })
      try {
        const refusals = [
          await raw(server, 'PUT', q('keep.txt'), Buffer.from('new')),
          await raw(server, 'DELETE', q('keep.txt')),
          // Why these two: Node's recursive mkdir says ENOENT for a read-only file system (a 404 before the fix).
          await raw(server, 'POST', '/files/mkdir', Buffer.from(JSON.stringify({ path: 'made/deeper' })), { 'content-type': 'application/json' }),
          await raw(server, 'PUT', `${q('made/new.txt')}&mkdir=1`, Buffer.from('new')),
        ]
        for (const got of refusals) {
          assert.equal(got.status, 403, got.bytes.toString())
          const body = JSON.parse(got.bytes.toString())
          assert.equal(body.code, 'FILE_PERMISSION_DENIED')
          assert.ok(body.error.includes(mount), body.error)
        }
        assertUntouched(mount)
      } finally {
        await server.close()
      }
    })
  })
})
