import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { fillVersion, isSafeVersion } from '../../../src/update/commands.js'

describe('rollback command helpers', () => {
  test('every {version} in the rollback command is replaced', () => {
    assert.equal(fillVersion('npm install -g agent-runtime@{version}', '1.2.3'), 'npm install -g agent-runtime@1.2.3')
    assert.equal(fillVersion('echo {version} && install {version}', '0.1.0'), 'echo 0.1.0 && install 0.1.0')
    assert.equal(fillVersion('reinstall-last', '0.1.0'), 'reinstall-last')
  })

  test('semver versions are safe to put into a shell command', () => {
    for (const version of ['0.1.0', '1.2.3-rc.1', '2.0.0+build.5', '1.0.0-beta_2']) assert.ok(isSafeVersion(version), version)
  })

  test('anything with shell syntax, spaces or nothing at all is not a usable version', () => {
    for (const version of ['', '1.0.0; rm -rf /', '$(id)', '1.0.0 2.0.0', '`x`', '-1.0.0', 'a'.repeat(101), '1.0\n2.0']) {
      assert.equal(isSafeVersion(version), false, JSON.stringify(version))
    }
  })
})
