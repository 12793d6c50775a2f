import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { after, before, describe, test } from 'node:test'
import { pack } from 'tar-stream'
import { extractTar } from '../../../src/files/tar-extract.js'
import { packTar } from '../../../src/files/tar-pack.js'

describe('packTar and extractTar', () => {
  let dir: string
  before(() => { dir = mkdtempSync(join(tmpdir(), 'files-tar-')) })
  after(() => rmSync(dir, { recursive: true, force: true }))

  test('a tree packed without a prefix and extracted elsewhere is the same tree, read-only directories included', async () => {
    const src = join(dir, 'src')
    mkdirSync(join(src, 'ro', 'kids'), { recursive: true })
    writeFileSync(join(src, 'ro', 'kids', 'f.txt'), 'data')
    writeFileSync(join(src, 'empty.txt'), '')
    symlinkSync('ro/kids/f.txt', join(src, 'link'))
    const out = join(dir, 'out')
    mkdirSync(out)
    const { chmodSync } = await import('node:fs')
    chmodSync(join(src, 'ro'), 0o555)
    try {
      const count = await extractTar(Readable.from(packTar(src, { prefix: '' })), out)
      assert.equal(count, 5)
      assert.equal(readFileSync(join(out, 'ro', 'kids', 'f.txt'), 'utf8'), 'data')
      assert.equal(readFileSync(join(out, 'empty.txt'), 'utf8'), '')
      assert.equal(readlinkSync(join(out, 'link')), 'ro/kids/f.txt')
      assert.equal(statSync(join(out, 'ro')).mode & 0o777, 0o555)
    } finally {
      chmodSync(join(src, 'ro'), 0o755)
      chmodSync(join(out, 'ro'), 0o755)
    }
  })

  test('strip drops leading components, as tar --strip-components does', async () => {
    const src = join(dir, 'named')
    mkdirSync(src)
    writeFileSync(join(src, 'x.txt'), 'x')
    const out = join(dir, 'stripped')
    mkdirSync(out)
    await extractTar(Readable.from(packTar(src, { prefix: 'named' })), out, { strip: 1 })
    assert.deepEqual(readdirSync(out), ['x.txt'])
  })

  test('bytes that are not a tar are refused as an unsafe archive', async () => {
    const out = join(dir, 'garbage')
    mkdirSync(out)
    await assert.rejects(extractTar(Readable.from([Buffer.alloc(1024, 7)]), out), { code: 'UNSAFE_ARCHIVE_ENTRY' })
  })

  /** A tar stream of `entries` (files with content, directories, symlinks), in order. */
  function archive (entries: Array<{ name: string, type?: 'file' | 'directory' | 'symlink' | 'link', body?: string, linkname?: string }>): Readable {
    const packer = pack()
    for (const { name, type = 'file', body = '', linkname } of entries) {
      const header = { name, type, ...(linkname !== undefined ? { linkname } : {}), mode: type === 'directory' ? 0o755 : 0o644 }
      if (type === 'file') packer.entry(header, body)
      else packer.entry(header)
    }
    packer.finalize()
    // Why Readable.from: tar-stream's streams are streamx streams, not Node's.
    return Readable.from(packer)
  }

  test('an archive refused at its third entry leaves the directory exactly as it was, staging included', async () => {
    const out = join(dir, 'all-or-nothing')
    mkdirSync(out)
    writeFileSync(join(out, 'keep.txt'), 'old')
    const refused = archive([{ name: 'a.txt', body: 'a' }, { name: 'keep.txt', body: 'new' }, { name: '../escape.txt', body: 'x' }])
    await assert.rejects(extractTar(refused, out), { code: 'UNSAFE_ARCHIVE_ENTRY' })
    assert.deepEqual(readdirSync(out), ['keep.txt'])
    assert.equal(readFileSync(join(out, 'keep.txt'), 'utf8'), 'old')
    const truncated = Readable.from([Buffer.concat(await streamBytes(archive([{ name: 'b.txt', body: 'b'.repeat(4000) }]))).subarray(0, 1024)])
    await assert.rejects(extractTar(truncated, out))
    assert.deepEqual(readdirSync(out), ['keep.txt'])
  })

  test('files replace files, directories merge into existing ones, and a file-versus-directory conflict changes nothing', async () => {
    const out = join(dir, 'merge')
    mkdirSync(join(out, 'sub'), { recursive: true })
    writeFileSync(join(out, 'sub', 'old.txt'), 'old')
    writeFileSync(join(out, 'top.txt'), 'before')
    writeFileSync(join(out, 'plain'), 'a file')
    await extractTar(archive([{ name: 'top.txt', body: 'after' }, { name: 'sub', type: 'directory' }, { name: 'sub/new.txt', body: 'new' }]), out)
    assert.equal(readFileSync(join(out, 'top.txt'), 'utf8'), 'after')
    assert.deepEqual(readdirSync(join(out, 'sub')).sort(), ['new.txt', 'old.txt'])
    const clash = archive([{ name: 'fresh.txt', body: 'f' }, { name: 'plain', type: 'directory' }, { name: 'plain/x', body: 'x' }])
    await assert.rejects(extractTar(clash, out), (err: Error & { code?: string }) => err.code === 'UNSAFE_ARCHIVE_ENTRY' && err.message.includes('plain'))
    assert.deepEqual(readdirSync(out).sort(), ['plain', 'sub', 'top.txt'])
    assert.equal(readFileSync(join(out, 'plain'), 'utf8'), 'a file')
  })

  test('a symlink with an absolute target inside the directory is kept; one through an existing link that points out is refused', async () => {
    const out = join(dir, 'links')
    const outside = join(dir, 'outside')
    mkdirSync(out)
    mkdirSync(outside)
    await extractTar(archive([{ name: 'abs', type: 'symlink', linkname: join(out, 'target.txt') }]), out)
    assert.equal(readlinkSync(join(out, 'abs')), join(out, 'target.txt'))
    symlinkSync(outside, join(out, 'door'))
    await assert.rejects(extractTar(archive([{ name: 'door', type: 'directory' }, { name: 'door/x.txt', body: 'x' }]), out), { code: 'UNSAFE_ARCHIVE_ENTRY' })
    assert.deepEqual(readdirSync(outside), [])
  })
})

async function streamBytes (stream: Readable): Promise<Buffer[]> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer))
  return chunks
}
