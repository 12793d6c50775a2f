import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { processStartTime } from '../../../src/exec/process-group.js'
import { createLogger } from '../../../src/logger.js'
import { TerminalRecords } from '../../../src/terminal/records.js'

const log = createLogger('silent', false)

describe('terminal records', { skip: process.platform !== 'linux' && 'needs /proc' }, () => {
  let dir: string
  let leader: ChildProcess
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'term-records-'))
    // A session leader standing in for a terminal's shell.
    leader = spawn('sleep', ['1010'], { detached: true, stdio: 'ignore' })
    await once(leader, 'spawn')
  })
  after(() => {
    leader.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })

  test('a recorded terminal is written as one file and forgotten when removed', () => {
    const records = new TerminalRecords(join(dir, 'a'), log)
    records.add('t1', leader.pid as number)
    const record = JSON.parse(readFileSync(join(dir, 'a', 't1.json'), 'utf8'))
    assert.equal(record.pid, leader.pid)
    assert.match(record.startTime, /^\d+$/)
    records.remove('t1')
    assert.deepEqual(readdirSync(join(dir, 'a')), [])
  })

  test('records of another boot and unreadable records are dropped without signalling anything', async () => {
    const recordsDir = join(dir, 'b')
    mkdirSync(recordsDir)
    const startTime = processStartTime(leader.pid as number)
    writeFileSync(join(recordsDir, 'old-boot.json'), JSON.stringify({ id: 'old-boot', pid: leader.pid, startTime, bootId: 'another-boot' }))
    writeFileSync(join(recordsDir, 'broken.json'), '{"id": "bro')
    writeFileSync(join(recordsDir, 'init.json'), JSON.stringify({ id: 'init', pid: 1, startTime: null, bootId: null }))
    assert.equal(await new TerminalRecords(recordsDir, log).endLeftovers(), 0)
    assert.equal(leader.exitCode, null)
    assert.equal(leader.signalCode, null)
    assert.deepEqual(readdirSync(recordsDir), [])
  })

  test('a recorded terminal whose shell is still the same process has its whole session ended', async () => {
    const recordsDir = join(dir, 'c')
    const victim = spawn('sleep', ['1011'], { detached: true, stdio: 'ignore' })
    await once(victim, 'spawn')
    new TerminalRecords(recordsDir, log).add('t2', victim.pid as number)
    const exited = once(victim, 'exit')
    assert.equal(await new TerminalRecords(recordsDir, log).endLeftovers(), 1)
    assert.deepEqual(await exited, [null, 'SIGHUP'])
    assert.equal(existsSync(join(recordsDir, 't2.json')), false)
  })

  test('no records directory means nothing to do', async () => {
    assert.equal(await new TerminalRecords(join(dir, 'none'), log).endLeftovers(), 0)
  })
})
