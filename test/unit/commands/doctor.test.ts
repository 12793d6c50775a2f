import assert from 'node:assert/strict'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { painter } from '../../../src/commands/colour.js'
import { formatChecks } from '../../../src/commands/doctor/index.js'
import { checkClock } from '../../../src/commands/doctor/host-checks.js'
import { checkNode, satisfiesMinimum } from '../../../src/commands/doctor/runtime-checks.js'
import { checkKeyFile, checkStateDir } from '../../../src/commands/doctor/state-checks.js'

describe('doctor checks', () => {
  let dir: string
  before(() => { dir = mkdtempSync(join(tmpdir(), 'doctor-unit-')) })
  after(() => rmSync(dir, { recursive: true, force: true }))

  test('a >=X.Y range compares versions part by part as numbers', () => {
    assert.equal(satisfiesMinimum('20.19.0', '>=20.19'), true)
    assert.equal(satisfiesMinimum('20.9.0', '>=20.19'), false)
    assert.equal(satisfiesMinimum('22.1.0', '>=20.19'), true)
    assert.equal(satisfiesMinimum('v20.18.9', '>= 20.19.0'), false)
    assert.equal(checkNode('18.20.0').status, 'fail')
    assert.equal(checkNode(process.versions.node).status, 'ok')
  })

  test('a state dir open to others warns and one of 0700 is ok; a key file of 0640 fails, 0600 is ok', () => {
    const state = join(dir, 'state')
    mkdirSync(state, { mode: 0o755 })
    chmodSync(state, 0o755)
    assert.deepEqual([checkStateDir(state).status, checkStateDir(state).fix], ['warn', `chmod 700 ${state}`])
    chmodSync(state, 0o700)
    assert.equal(checkStateDir(state).status, 'ok')
    writeFileSync(join(state, 'api-key'), 'k', { mode: 0o640 })
    chmodSync(join(state, 'api-key'), 0o640)
    assert.equal(checkKeyFile(state, {}).status, 'fail')
    assert.equal(checkKeyFile(state, { AGENT_RUNTIME_API_KEY: 'from-env' }).status, 'ok')
    chmodSync(join(state, 'api-key'), 0o600)
    assert.equal(checkKeyFile(state, {}).status, 'ok')
    writeFileSync(join(dir, 'file'), '')
    assert.equal(checkStateDir(join(dir, 'file')).status, 'fail')
  })

  test('a clock before the installation or past 2100 fails', () => {
    const file = join(dir, 'ref')
    writeFileSync(file, '')
    assert.equal(checkClock(file, Date.parse('2001-01-01')).status, 'fail')
    assert.equal(checkClock(file, Date.parse('2150-01-01')).status, 'fail')
    assert.notEqual(checkClock(file).status, 'fail')
  })

  test('verdicts are coloured only for a terminal without NO_COLOR, and the fix goes under its line', () => {
    const lines = [{ name: 'a', status: 'ok' as const, detail: 'fine' }, { name: 'bb', status: 'fail' as const, detail: 'broken', fix: 'mend it' }]
    const plain = formatChecks(lines, painter({ isTTY: false } as never, {}))
    assert.equal(plain, 'ok    a   fine\nfail  bb  broken\n          fix: mend it\n1 failure, 0 warnings\n')
    assert.ok(formatChecks(lines, painter({ isTTY: true } as never, {})).includes('\u001b[31mfail\u001b[0m'))
    assert.equal(formatChecks(lines, painter({ isTTY: true } as never, { NO_COLOR: '' })), plain)
  })
})
