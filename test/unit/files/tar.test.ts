import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { after, before, describe, test } from 'node:test'
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
})
