import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { resolveRequestPath } from '../../../src/files/paths.js'

describe('resolveRequestPath', () => {
  let base: string
  let root: string
  before(() => {
    base = mkdtempSync(join(tmpdir(), 'files-paths-'))
    root = join(base, 'root')
    mkdirSync(join(root, 'inner'), { recursive: true })
    mkdirSync(join(base, 'outside'))
    symlinkSync(join(base, 'outside'), join(root, 'out'))
    symlinkSync('inner', join(root, 'in'))
    symlinkSync('../outside/missing', join(root, 'dangling-out'))
  })
  after(() => rmSync(base, { recursive: true, force: true }))

  test('relative paths resolve against the root and absolute ones stay as they are', async () => {
    const files = { root, confine: false }
    assert.equal(await resolveRequestPath(files, 'a/b.txt'), join(root, 'a/b.txt'))
    assert.equal(await resolveRequestPath(files, '/etc/hosts'), '/etc/hosts')
    assert.equal(await resolveRequestPath(files, '../outside'), join(base, 'outside'))
  })

  test('with confinement, paths inside the root pass, also through symlinks that stay inside and for files not yet created', async () => {
    const files = { root, confine: true }
    assert.equal(await resolveRequestPath(files, '.'), root)
    assert.equal(await resolveRequestPath(files, 'in/new/deeper.txt'), join(root, 'in/new/deeper.txt'))
    assert.equal(await resolveRequestPath(files, join(root, 'inner')), join(root, 'inner'))
  })

  test('with confinement, .., absolute paths elsewhere and symlinks out (even dangling ones, even below a new name) are refused', async () => {
    const files = { root, confine: true }
    for (const path of ['..', '../outside', '/etc/hosts', 'out', 'out/new.txt', 'out/a/b/c', 'dangling-out', 'inner/../../outside']) {
      await assert.rejects(resolveRequestPath(files, path), { code: 'PATH_OUTSIDE_ROOT' }, path)
    }
  })

  test('an empty path or one with a NUL byte is a bad request', async () => {
    await assert.rejects(resolveRequestPath({ root, confine: false }, ''), { code: 'INVALID_REQUEST' })
    await assert.rejects(resolveRequestPath({ root, confine: false }, 'a\0b'), { code: 'INVALID_REQUEST' })
  })
})
