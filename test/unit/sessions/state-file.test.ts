import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { newSessionState, readSessionState, StateFile } from '../../../src/sessions/state-file.js'
import type { SessionRunRequest } from '../../../src/sessions/types.js'
import { captureLog } from '../update/log-capture.js'

const request = { sessionKey: 'k', shell: 'bash', shellPath: '/bin/bash', workdir: '/tmp', env: {} } as unknown as SessionRunRequest

test("a session's state file is written when the state changed, not for lastUsedAt alone, and never after close", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'state-file-'))
  t.after(() => { rmSync(dir, { recursive: true, force: true }) })
  const path = join(dir, 'session.json')
  const file = new StateFile(path, newSessionState(request), captureLog().log)
  file.save()
  const first = readSessionState(path)
  assert.equal(first?.sessionKey, 'k')

  file.touch()
  file.state.lastUsedAt += 1000
  file.save()
  assert.notEqual(readSessionState(path)?.lastUsedAt, file.state.lastUsedAt)

  file.state.bootstrap = 'echo hi'
  file.changed()
  file.save()
  assert.equal(readSessionState(path)?.bootstrap, 'echo hi')

  file.state.bootstrap = 'echo later'
  file.changed()
  file.close()
  file.save()
  assert.equal(readSessionState(path)?.bootstrap, 'echo hi')
})

test('a state file that cannot be written is logged, not thrown', () => {
  const { log, lines } = captureLog()
  // Why a child: the pool gives each session a logger that names it.
  const file = new StateFile(join(tmpdir(), 'no-such-dir-' + String(process.pid), 'x', 'session.json'), newSessionState(request), log.child({ sessionKey: 'k' }))
  file.save()
  assert.equal(lines.some((line) => line.msg === 'could not save session state' && line.sessionKey === 'k'), true)
})
