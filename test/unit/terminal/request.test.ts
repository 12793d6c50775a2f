import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { defaultShell, findShell, parseTerminalQuery } from '../../../src/terminal/request.js'

describe('terminal requests', () => {
  const dir = mkdtempSync(join(tmpdir(), 'term-request-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  test('a shell is found by absolute path or on PATH; relative paths and non-executables are not', () => {
    assert.equal(findShell('/bin/sh'), '/bin/sh')
    assert.equal(findShell('sh', '/nonexistent:/bin'), '/bin/sh')
    assert.equal(findShell('bin/sh'), undefined)
    writeFileSync(join(dir, 'not-executable'), '#!/bin/sh\n', { mode: 0o644 })
    assert.equal(findShell(join(dir, 'not-executable')), undefined)
    assert.equal(findShell(dir), undefined, 'a directory is not a shell')
    assert.equal(findShell('no-such-shell', '/bin'), undefined)
  })

  test('the default shell skips nologin and false, and falls back to /bin/sh', () => {
    const shell = defaultShell({ SHELL: '/usr/sbin/nologin' })
    assert.ok(!shell.endsWith('nologin') && !shell.endsWith('/false'), shell)
  })

  test('a new terminal: workdir resolved against the server cwd, size clamped, login shells get -l', () => {
    const request = parseTerminalQuery({ workdir: '.', cols: '9999', rows: 'x', shell: '/bin/sh', command: 'ls' }, dir, '/bin/sh')
    assert.deepEqual(request, { readonly: false, shell: '/bin/sh', args: ['-l'], workdir: dir, cols: 500, rows: 24, command: 'ls' })
  })

  test('a reattach needs only the session id; readonly is 1 or true', () => {
    assert.deepEqual(parseTerminalQuery({ session: 'abc', workdir: '/no/such/dir', readonly: '1' }, dir, '/bin/sh'), { readonly: true, sessionId: 'abc' })
    assert.equal(parseTerminalQuery({ readonly: 'true' }, dir, '/bin/sh').readonly, true)
    assert.equal(parseTerminalQuery({ readonly: 'yes' }, dir, '/bin/sh').readonly, false)
  })

  test('a missing workdir or unknown shell is a 400 with its own code', () => {
    assert.throws(() => parseTerminalQuery({ workdir: '/no/such/dir' }, dir, '/bin/sh'), { code: 'WORKDIR_NOT_FOUND', statusCode: 400 })
    assert.throws(() => parseTerminalQuery({ shell: 'no-such-shell' }, dir, '/bin/sh'), { code: 'INVALID_REQUEST', statusCode: 400 })
  })
})
