import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { detectShells, shellKindOf } from '../../../src/sessions/shells.js'

describe('shell kinds and detection', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shells-'))
  after(() => rmSync(dir, { recursive: true, force: true }))
  const fake = (name: string, executable = true): void => {
    writeFileSync(join(dir, name), '#!/bin/sh\n')
    chmodSync(join(dir, name), executable ? 0o755 : 0o644)
  }

  test("aliases are matched case-insensitively, devpilot's PowerShell names included", () => {
    assert.equal(shellKindOf('Pwsh.EXE'), 'pwsh')
    assert.equal(shellKindOf('windows-powershell'), 'powershell')
    assert.equal(shellKindOf('powershell.exe'), 'powershell')
    assert.equal(shellKindOf('dash'), 'sh')
    assert.equal(shellKindOf('ZSH'), 'zsh')
    assert.equal(shellKindOf('fish'), undefined)
    assert.equal(shellKindOf('constructor'), undefined)
  })

  test('detection finds executables on PATH only, and bash is the default when present', () => {
    fake('zsh')
    fake('bash', false)
    fake('pwsh')
    const found = detectShells(`${dir}:/nonexistent`)
    assert.deepEqual(found.installed, { zsh: join(dir, 'zsh') })
    assert.deepEqual(found.present, { bash: false, zsh: true, sh: false, pwsh: true, powershell: false })
    assert.equal(found.defaultShell, 'zsh')
    assert.equal(found.supported, true)
    fake('bash')
    assert.equal(detectShells(dir).defaultShell, 'bash')
  })

  test('with no shell on PATH sessions are not supported', () => {
    assert.deepEqual(detectShells(''), {
      installed: {},
      present: { bash: false, zsh: false, sh: false, pwsh: false, powershell: false },
      defaultShell: null,
      supported: false,
    })
  })
})
