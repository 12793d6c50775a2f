import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { after, before, describe, test } from 'node:test'
import { writeFileAtomically } from '../../../src/files/atomic-write.js'

describe('writeFileAtomically', () => {
  let dir: string
  before(() => { dir = mkdtempSync(join(tmpdir(), 'files-atomic-')) })
  after(() => rmSync(dir, { recursive: true, force: true }))

  test('writes a new file and says it was created, then replaces it keeping its mode', async () => {
    const target = join(dir, 'a.txt')
    assert.equal(await writeFileAtomically(Readable.from([Buffer.from('one')]), target, { mode: 0o600 }), true)
    assert.equal(await writeFileAtomically(Readable.from([Buffer.from('two')]), target), false)
    assert.equal(readFileSync(target, 'utf8'), 'two')
    assert.equal(statSync(target).mode & 0o777, 0o600)
    assert.deepEqual(readdirSync(dir), ['a.txt'])
  })

  test('a body that fails mid-way leaves the old file and no temp file', async () => {
    const target = join(dir, 'keep.txt')
    writeFileSync(target, 'old')
    const failing = new Readable({ read () { this.push(Buffer.alloc(1000)); this.destroy(new Error('client went away')) } })
    await assert.rejects(writeFileAtomically(failing, target), /client went away/)
    assert.equal(readFileSync(target, 'utf8'), 'old')
    assert.deepEqual(readdirSync(dir).filter((name) => name.includes('keep')), ['keep.txt'])
  })

  test('more bytes than the limit is UPLOAD_TOO_LARGE and writes nothing', async () => {
    await assert.rejects(writeFileAtomically(Readable.from([Buffer.alloc(600), Buffer.alloc(600)]), join(dir, 'big.bin'), { maxBytes: 1000 }), { code: 'UPLOAD_TOO_LARGE' })
    assert.deepEqual(readdirSync(dir).filter((name) => name.includes('big')), [])
  })

  test('a missing parent is FILE_NOT_FOUND unless mkdir is asked, and a directory target is IS_A_DIRECTORY', async () => {
    await assert.rejects(writeFileAtomically(Readable.from([]), join(dir, 'no/such/x')), { code: 'FILE_NOT_FOUND' })
    assert.equal(await writeFileAtomically(Readable.from([]), join(dir, 'made/deep/x'), { mkdir: true }), true)
    await assert.rejects(writeFileAtomically(Readable.from([]), join(dir, 'made')), { code: 'IS_A_DIRECTORY' })
  })

  test('a failing beforeRename check cancels the replace', async () => {
    const target = join(dir, 'guarded.txt')
    writeFileSync(target, 'old')
    await assert.rejects(writeFileAtomically(Readable.from([Buffer.from('new')]), target, { beforeRename: async () => { throw Object.assign(new Error('changed'), { code: 'PRECONDITION_FAILED' }) } }), { code: 'PRECONDITION_FAILED' })
    assert.equal(readFileSync(target, 'utf8'), 'old')
    assert.deepEqual(readdirSync(dir).filter((name) => name.includes('guarded')), ['guarded.txt'])
  })
})
