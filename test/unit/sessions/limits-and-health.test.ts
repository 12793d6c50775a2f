import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { sessionHealth } from '../../../src/sessions/health.js'
import { idleTimeoutSecFromEnv, maxSessionsFromEnv } from '../../../src/sessions/limits.js'

describe("devpilot's session environment variables", () => {
  test('the maximum is an integer raised to at least 1; invalid values are ignored', () => {
    assert.equal(maxSessionsFromEnv('5'), 5)
    assert.equal(maxSessionsFromEnv('0'), 1)
    assert.equal(maxSessionsFromEnv('-3'), 1)
    assert.equal(maxSessionsFromEnv('many'), undefined)
    assert.equal(maxSessionsFromEnv('2.5'), undefined)
    assert.equal(maxSessionsFromEnv(undefined), undefined)
  })

  test('the idle timeout is a float of seconds; zero and negative values disable it', () => {
    assert.equal(idleTimeoutSecFromEnv('1.5'), 1.5)
    assert.equal(idleTimeoutSecFromEnv('-1'), 0)
    assert.equal(idleTimeoutSecFromEnv('0'), 0)
    assert.equal(idleTimeoutSecFromEnv('soon'), undefined)
    assert.equal(idleTimeoutSecFromEnv(''), undefined)
  })
})

test('/health says which shells can run sessions here and the limits', () => {
  const health = sessionHealth({ installed: { bash: '/bin/bash', sh: '/bin/sh' }, present: { bash: true, zsh: false, sh: true, pwsh: true, powershell: false }, defaultShell: 'bash', supported: true }, 2, 32, 1500)
  assert.deepEqual(health, {
    persistent_shell_supported: true,
    persistent_shell_shells: { bash: true, zsh: false, sh: true, pwsh: false, powershell: false },
    persistent_shell_default_shell: 'bash',
    persistent_shell_sessions: 2,
    persistent_shell_max_sessions: 32,
    persistent_shell_idle_timeout_seconds: 1.5,
  })
})
