import assert from 'node:assert/strict'
import type { BigIntStats } from 'node:fs'
import { describe, test } from 'node:test'
import { planDownload } from '../../../src/files/download.js'
import { etagMatches, etagOf } from '../../../src/files/etag.js'

const stats = (size: number, mtimeNs = 1_700_000_000_000_000_000n, ino = 42n): BigIntStats =>
  ({ size: BigInt(size), mtimeNs, mtimeMs: mtimeNs / 1_000_000n, ino }) as unknown as BigIntStats

describe('etagOf and etagMatches', () => {
  test('the tag changes with size, mtime and inode', () => {
    const tags = new Set([etagOf(stats(10)), etagOf(stats(11)), etagOf(stats(10, 1n)), etagOf(stats(10, undefined, 43n))])
    assert.equal(tags.size, 4)
    assert.match(etagOf(stats(10)), /^"[0-9a-f-]+"$/)
  })

  test('a header matches its tag, a list containing it, a weak form of it, or *', () => {
    const tag = etagOf(stats(5))
    assert.ok(etagMatches(tag, tag))
    assert.ok(etagMatches(`"x", ${tag}`, tag))
    assert.ok(etagMatches(`W/${tag}`, tag))
    assert.ok(etagMatches('*', tag))
    assert.ok(!etagMatches('"other"', tag))
  })
})

describe('planDownload', () => {
  test('a plain GET is 200 with the whole file and its validators', () => {
    const plan = planDownload(stats(10), undefined, undefined)
    assert.equal(plan.status, 200)
    assert.deepEqual(plan.span, { start: 0, end: 9 })
    assert.equal(plan.headers['content-length'], 10)
    assert.equal(plan.headers.etag, etagOf(stats(10)))
    assert.equal(plan.headers['last-modified'], new Date(1_700_000_000_000).toUTCString())
  })

  test('an empty file is 200 with no span to read', () => {
    const plan = planDownload(stats(0), undefined, undefined)
    assert.equal(plan.status, 200)
    assert.equal(plan.span, null)
    assert.equal(plan.headers['content-length'], 0)
  })

  test('a matching If-None-Match is 304 even with a Range', () => {
    assert.equal(planDownload(stats(10), 'bytes=0-1', etagOf(stats(10))).status, 304)
  })

  test('a single range is 206 with Content-Range; a range past the end is 416; a multi-range is served whole', () => {
    const partial = planDownload(stats(10), 'bytes=8-', undefined)
    assert.equal(partial.status, 206)
    assert.equal(partial.headers['content-range'], 'bytes 8-9/10')
    assert.equal(partial.headers['content-length'], 2)
    const beyond = planDownload(stats(10), 'bytes=10-', undefined)
    assert.equal(beyond.status, 416)
    assert.equal(beyond.headers['content-range'], 'bytes */10')
    assert.equal(planDownload(stats(10), 'bytes=0-1,4-5', undefined).status, 200)
    assert.equal(planDownload(stats(0), 'bytes=0-', undefined).status, 416)
  })
})
