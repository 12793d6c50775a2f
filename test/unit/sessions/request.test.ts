import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { parseSessionRequest } from '../../../src/sessions/request.js'
import type { ShellAvailability } from '../../../src/sessions/shells.js'

const cwd = process.cwd()
const allShells: ShellAvailability = {
  installed: { bash: '/usr/bin/bash', zsh: '/usr/bin/zsh', sh: '/usr/bin/sh' },
  present: { bash: true, zsh: true, sh: true, pwsh: false, powershell: false },
  defaultShell: 'bash',
  supported: true,
}
const noShells: ShellAvailability = { installed: {}, present: { bash: false, zsh: false, sh: false, pwsh: false, powershell: false }, defaultShell: null, supported: false }
const valid = { mode: 'persistent_shell', command: 'echo hi', sessionKey: 'k', shell: 'bash' }

function rejects (body: Record<string, unknown>, message: string, shells = allShells, code = 'INVALID_REQUEST'): void {
  assert.throws(() => parseSessionRequest(body, cwd, shells), (err: Error & { code?: string, statusCode?: number }) => {
    assert.equal(err.message, message)
    assert.equal(err.code, code)
    assert.equal(err.statusCode, 400)
    return true
  })
}

describe('parseSessionRequest (devpilot §1.5, in its order)', () => {
  test('a valid request gives the canonical shell, its path, the seed and the defaults', () => {
    assert.deepEqual(parseSessionRequest({ ...valid, shell: 'BASH', env: { A: 'b' } }, cwd, allShells), {
      sessionKey: 'k',
      shell: 'bash',
      shellPath: '/usr/bin/bash',
      command: 'echo hi',
      bootstrapCommand: '',
      bootstrapCurrentCommand: false,
      workdir: cwd,
      env: { A: 'b' },
      timeoutSec: 300,
    })
  })

  test("env comes first and has devpilot's message", () => {
    rejects({ env: 'a' }, 'env must be an object of string key/value pairs', noShells)
    rejects({ ...valid, env: { A: 1 } }, 'env must be an object of string key/value pairs')
  })

  test('without any shell every later message is hidden behind "persistent shell is not available"', () => {
    rejects({}, 'persistent shell is not available', noShells)
  })

  test('each field fails with its own message, the first failure winning', () => {
    rejects({}, 'command is required')
    rejects({ command: '', sessionKey: 'k' }, 'command is required')
    rejects({ command: [] }, 'command is required')
    rejects({ command: 'x' }, 'sessionKey is required')
    rejects({ command: 'x', sessionKey: '' }, 'sessionKey is required')
    rejects({ command: 'x', sessionKey: 5 }, 'sessionKey is required')
    rejects({ command: 'x', sessionKey: 'k' }, 'shell is required')
    rejects({ command: 'x', sessionKey: 'k', shell: '' }, 'shell is required')
    rejects({ ...valid, shell: 'fish', bootstrapCommand: 5 }, 'bootstrapCommand must be a string')
    rejects({ ...valid, shell: 'fish', bootstrapCurrentCommand: 'yes' }, 'bootstrapCurrentCommand must be a boolean')
    rejects({ ...valid, shell: 'fish' }, 'unsupported shell: fish')
  })

  test('falsy bootstrap values are accepted as no bootstrap, as in devpilot', () => {
    for (const bootstrapCommand of [0, false, null, '']) {
      assert.equal(parseSessionRequest({ ...valid, bootstrapCommand }, cwd, allShells).bootstrapCommand, '')
    }
  })

  test("devpilot's PowerShell aliases are known; a known shell that is not installed is a clear 400", () => {
    rejects({ ...valid, shell: 'pwsh.exe' }, 'shell pwsh is not installed on this machine')
    rejects({ ...valid, shell: 'Windows-PowerShell' }, 'shell powershell is not installed on this machine')
    rejects({ ...valid, shell: 'pwsh' }, 'shell pwsh is installed but persistent pwsh sessions are not supported by this version', { ...allShells, present: { ...allShells.present, pwsh: true } })
    rejects({ ...valid, shell: 'zsh' }, 'shell zsh is not installed on this machine', { ...allShells, installed: { bash: '/usr/bin/bash' } })
  })

  test('then ours: a non-string command, a missing workdir and a bad timeout', () => {
    rejects({ ...valid, command: 42 }, 'command must be a string')
    rejects({ ...valid, workdir: '/no/such/dir' }, 'workdir does not exist or is not a directory: /no/such/dir', allShells, 'WORKDIR_NOT_FOUND')
    rejects({ ...valid, timeout: 'soon' }, 'timeout must be a number of seconds between 0 and 31536000')
    assert.equal(parseSessionRequest({ ...valid, timeout: null }, cwd, allShells).timeoutSec, 0)
    assert.equal(parseSessionRequest({ ...valid, workdir: '/usr' }, cwd, allShells).workdir, '/usr')
  })
})
