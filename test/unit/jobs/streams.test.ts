import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { jobFiles } from '../../../src/exec/job-files.js'
import { followJob, formatCursor, parseCursor, START, type JobEvent } from '../../../src/jobs/streams.js'
import { newJobRecord, type JobRecord } from '../../../src/jobs/types.js'

const spec = { command: 'x', shell: '/bin/sh', workdir: '/', env: {}, timeoutSec: 0, idleTimeoutSec: 0, stdin: null, stdinEof: false }

describe('event cursors', () => {
  test('format and parse are inverses; anything else is rejected', () => {
    const cursor = { stdout: 123, stderr: 4, lifecycle: 2, events: 0 }
    assert.deepEqual(parseCursor(formatCursor(cursor)), cursor)
    assert.equal(formatCursor(cursor), '123.4.2')
    const withEvents = { ...cursor, events: 77 }
    assert.equal(formatCursor(withEvents), '123.4.2.77')
    assert.deepEqual(parseCursor(formatCursor(withEvents)), withEvents)
    for (const bad of ['', '1.2', '1.2.3.4.5', 'a.b.c', '-1.0.0', '1.2.3x', '1.2.3.']) assert.equal(parseCursor(bad), null, bad)
  })
})

describe('followJob', () => {
  const dir = mkdtempSync(join(tmpdir(), 'events-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  const collect = async (job: JobRecord, cursor = START, chunkBytes = 3): Promise<JobEvent[]> => {
    const events: JobEvent[] = []
    const signal = new AbortController().signal
    const files = jobFiles(dir, job.id)
    for await (const e of followJob({ files, getJob: () => job, waitForChange: async () => {}, cursor, encoding: 'utf8', chunkBytes, signal })) events.push(e)
    return events
  }

  test('a finished job yields lifecycle, every byte in chunks that never split a character, then exit', async () => {
    const job = { ...newJobRecord('j1', spec, null), status: 'completed' as const, startedAt: 1, finishedAt: 2, exitCode: 0 }
    const files = jobFiles(dir, 'j1')
    rmSync(files.dir, { recursive: true, force: true })
    mkdirSync(files.dir, { recursive: true })
    writeFileSync(files.stdout, 'a€€b')
    writeFileSync(files.stderr, '')
    const events = await collect(job)
    assert.deepEqual(events.map((e) => e.event), ['status', 'status', 'output', 'output', 'output', 'output', 'status', 'exit'])
    const text = events.filter((e) => e.event === 'output').map((e) => (e.data as { data: string }).data)
    assert.deepEqual(text, ['a', '€', '€', 'b'])
    assert.equal(events.at(-1)?.id, '8.0.4')
  })

  test('resuming from any event id yields exactly the events after it', async () => {
    const job = { ...newJobRecord('j1', spec, null), status: 'completed' as const, startedAt: 1, finishedAt: 2, exitCode: 0 }
    const all = await collect(job)
    for (let i = 0; i < all.length; i++) {
      const rest = await collect(job, parseCursor(all[i]?.id as string) ?? START)
      assert.deepEqual(rest, all.slice(i + 1), `after ${all[i]?.id}`)
    }
  })

  test('an ACP job\'s event log is sent as acp events, whole lines only (even longer than a chunk), resumable from any id', async () => {
    const job = { ...newJobRecord('a1', spec, null), mode: 'acp' as const, status: 'completed' as const, startedAt: 1, finishedAt: 2, exitCode: 0 }
    const files = jobFiles(dir, 'a1')
    mkdirSync(files.dir, { recursive: true })
    writeFileSync(files.stdout, 'hi')
    const logged = [{ type: 'message', timestamp: 1, data: { text: 'hi' } }, { type: 'stop', timestamp: 2, data: { stopReason: 'end_turn' } }]
    writeFileSync(files.events, logged.map((e) => JSON.stringify(e) + '\n').join('') + '{"half": ')
    const events = await collect(job, START, 8)
    assert.deepEqual(events.filter((e) => e.event === 'acp').map((e) => e.data), logged)
    assert.deepEqual(events.map((e) => e.event), ['status', 'status', 'output', 'acp', 'acp', 'status', 'exit'])
    for (let i = 0; i < events.length; i++) {
      const rest = await collect(job, parseCursor(events[i]?.id as string) ?? START, 8)
      assert.deepEqual(rest, events.slice(i + 1), `after ${events[i]?.id}`)
    }
  })
})
