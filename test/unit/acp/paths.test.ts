import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { resolveReal, Sandbox } from '../../../src/acp/paths.js'

describe('paths', () => {
  const top = realpathSync(mkdtempSync(join(tmpdir(), 'acp-paths-')))
  const root = join(top, 'work')
  const outside = join(top, 'outside')
  mkdirSync(join(root, 'sub'), { recursive: true })
  mkdirSync(join(outside, 'deep'), { recursive: true })
  symlinkSync(outside, join(root, 'out-link'))
  symlinkSync('sub', join(root, 'in-link'))
  symlinkSync(join(outside, 'deep'), join(root, 'sub', 'deep-link'))
  symlinkSync('loop-b', join(root, 'loop-a'))
  symlinkSync('loop-a', join(root, 'loop-b'))
  after(() => rmSync(top, { recursive: true, force: true }))
  const sandbox = new Sandbox(root)

  test('links are followed in order, so link/.. is the parent of the target', () => {
    assert.equal(resolveReal(root, 'out-link/../x'), join(top, 'x'))
    assert.equal(resolveReal(root, 'in-link/file'), join(root, 'sub', 'file'))
    assert.equal(resolveReal(root, 'sub/deep-link/new/file'), join(outside, 'deep', 'new', 'file'))
    assert.equal(resolveReal(root, 'missing/../sub'), join(root, 'sub'))
  })

  test('the sandbox accepts paths that really are inside and refuses escapes, links and loops', () => {
    for (const inside of ['.', 'a.txt', 'sub/new/file', join(root, 'sub'), 'in-link/x', 'sub/../a']) {
      assert.ok(sandbox.contains(inside), inside)
    }
    for (const escape of ['..', '../outside/x', '/etc/passwd', 'out-link', 'out-link/x', 'out-link/../outside/x', 'sub/deep-link/f', 'loop-a', `${root}-sibling/x`]) {
      assert.equal(sandbox.contains(escape), false, escape)
    }
  })

  test('a workdir given through a link is the same sandbox as its target', () => {
    const viaLink = new Sandbox(join(root, 'in-link'))
    assert.equal(viaLink.root, join(root, 'sub'))
    assert.equal(viaLink.resolve('f'), join(root, 'sub', 'f'))
  })
})
