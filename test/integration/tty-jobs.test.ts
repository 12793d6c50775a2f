import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import { processesMatching } from '../helpers/processes.js'
import { call, spawnServer } from '../helpers/cli-process.js'
import { makeStateDir, startServer, type TestServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

// A unique sleep length marks the processes of one test so that we can look for leftovers.
const marker = (): string => `1000.${Math.floor(Math.random() * 1e9)}`

// Jobs submitted with `tty: true`: the command runs on a PTY held by the server.
describe('tty jobs', () => {
  let server: TestServer
  before(async () => { server = await startServer({ killGrace: '1' }) })
  after(async () => server.close())

  const stdoutOf = async (id: string): Promise<string> => (await server.api('GET', `/jobs/${id}`)).body.stdout as string

  test('a tty job sees a terminal of the size asked for, and its stderr lands in stdout', async () => {
    const id = await server.submit({ command: 'test -t 0 && test -t 1 && echo "tty=yes"; stty size; echo to-stderr >&2; exit 3', tty: true, cols: 123, rows: 45 })
    const job = await server.finished(id)
    assert.equal(job.status, 'failed')
    assert.equal(job.exitCode, 3)
    assert.equal(job.tty, true)
    assert.match(job.stdout, /tty=yes\r\n45 123\r\nto-stderr\r\n/)
    assert.equal(job.stderr, '')
  })

  test('what a tty job writes is recorded byte for byte, bytes that are not UTF-8 included', async () => {
    const id = await server.submit({ command: "printf 'a\\377\\376b'", tty: true })
    await server.finished(id)
    const raw = await fetch(`${server.url}/jobs/${id}/stdout`, { headers: { 'x-api-key': server.key } })
    assert.deepEqual([...new Uint8Array(await raw.arrayBuffer())], [0x61, 0xff, 0xfe, 0x62])
  })

  test('without cols and rows the terminal is 80 by 24, TERM can be chosen, and a plain shell job has no terminal', async () => {
    const tty = await server.finished(await server.submit({ command: 'stty size', tty: true }))
    assert.equal(tty.stdout, '24 80\r\n')
    const term = await server.finished(await server.submit({ command: 'echo "$TERM"', tty: true, env: { TERM: 'vt100' } }))
    assert.equal(term.stdout, 'vt100\r\n')
    const plain = await server.finished(await server.submit({ command: 'test -t 0 || echo "no tty"', stdinEof: true }))
    assert.equal(plain.stdout, 'no tty\n')
    assert.equal('tty' in plain, false)
  })

  test('stdin is typed into the terminal, and resize changes its window size', async () => {
    const id = await server.submit({ command: 'echo ready; while read line; do echo "got $line $(stty size)"; done; echo done', tty: true })
    await waitFor(async () => (await stdoutOf(id)).includes('ready'), 'the job to start')
    const resized = await server.api('POST', `/jobs/${id}/resize`, { cols: 100, rows: 30 })
    assert.equal(resized.status, 200)
    assert.deepEqual(resized.body, { jobId: id, cols: 100, rows: 30 })
    const written = await server.api('POST', `/jobs/${id}/stdin`, { data: 'hello\n', eof: true })
    assert.deepEqual(written.body, { jobId: id, written: 6, eof: true })
    const job = await server.finished(id)
    assert.equal(job.status, 'completed')
    assert.match(job.stdout, /got hello 30 100\r\ndone\r\n/)
    const closed = await server.api('POST', `/jobs/${id}/stdin`, { data: 'late' })
    assert.equal(closed.status, 409)
  })

  test('input a tty job does not read is held up to a limit, then refused with STDIN_BUSY', async () => {
    // Why raw mode: in its line mode a terminal drops what does not fit in a line instead of waiting.
    const id = await server.submit({ command: `stty raw -echo; echo ready; sleep ${marker()}`, tty: true })
    await waitFor(async () => (await stdoutOf(id)).includes('ready'), 'the job to start')
    const chunk = 'x'.repeat(1536 * 1024)
    assert.equal((await server.api('POST', `/jobs/${id}/stdin`, { data: chunk })).status, 200)
    const busy = await server.api('POST', `/jobs/${id}/stdin`, { data: 'more' })
    assert.equal(busy.status, 409)
    assert.equal(busy.body.code, 'STDIN_BUSY')
    await server.api('POST', `/jobs/${id}/kill`, {})
    assert.equal((await server.finished(id)).status, 'cancelled')
  })

  test('nudge types a newline into the terminal', async () => {
    const id = await server.submit({ command: 'echo ready; read line; echo "nudged [$line]"', tty: true })
    await waitFor(async () => (await stdoutOf(id)).includes('ready'), 'the job to start')
    const nudged = (await server.api('POST', `/jobs/${id}/nudge`)).body
    const job = await server.finished(id)
    assert.deepEqual(nudged, { nudged: true, processAlive: true }, JSON.stringify(job))
    assert.match(job.stdout, /nudged \[\]/, JSON.stringify(job))
  })

  test('kill ends the whole process group of a tty job, background processes included', async () => {
    const m = marker()
    const id = await server.submit({ command: `sleep ${m} & echo started; sleep ${m}`, tty: true })
    await waitFor(async () => (await stdoutOf(id)).includes('started'), 'the job to start')
    await waitFor(() => processesMatching(`sleep ${m}`).length >= 2, 'both sleeps')
    assert.equal((await server.api('POST', `/jobs/${id}/kill`, {})).status, 200)
    const job = await server.finished(id)
    assert.equal(job.status, 'cancelled')
    assert.deepEqual(processesMatching(`sleep ${m}`), [])
  })

  test('a background process that ignores the end of the job is killed with it', async () => {
    const m = marker()
    const id = await server.submit({ command: `(trap '' HUP TERM; exec sleep ${m}) & echo left-behind`, tty: true })
    const job = await server.finished(id)
    assert.equal(job.status, 'completed')
    await waitFor(() => processesMatching(`sleep ${m}`).length === 0, 'the background sleep to be gone')
  })

  test('timeout and idle timeout end tty jobs as they end shell jobs', async () => {
    const m = marker()
    const timedOut = await server.finished(await server.submit({ command: `echo partial; sleep ${m}`, tty: true, timeout: 0.5 }))
    assert.equal(timedOut.status, 'timeout')
    assert.match(timedOut.error, /timed out after 0.5 s/)
    assert.equal(timedOut.stdout, 'partial\r\n')
    const idle = await server.finished(await server.submit({ command: `echo tick; sleep ${m}`, tty: true, idleTimeout: 0.5 }))
    assert.equal(idle.status, 'timeout')
    assert.match(idle.error, /no output for 0.5 s/)
    assert.deepEqual(processesMatching(`sleep ${m}`), [])
  })

  test('bytes that are not UTF-8 reach a job unchanged through dataBase64', async () => {
    const id = await server.submit({ command: 'od -An -tx1 -v', stdin: '' })
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28, 0x0a])
    const written = await server.api('POST', `/jobs/${id}/stdin`, { dataBase64: bytes.toString('base64'), eof: true })
    assert.deepEqual(written.body, { jobId: id, written: 7, eof: true })
    const job = await server.finished(id)
    assert.equal(job.stdout.trim().split(/\s+/).join(' '), 'ff fe 00 80 c3 28 0a')
  })

  test('stdin and resize refuse what they cannot do, each with one clear error', async () => {
    const id = await server.submit({ command: 'cat' })
    const both = await server.api('POST', `/jobs/${id}/stdin`, { data: 'a', dataBase64: 'YQ==' })
    assert.equal(both.status, 400)
    assert.match(both.body.error, /data or dataBase64, not both/)
    const bad = await server.api('POST', `/jobs/${id}/stdin`, { dataBase64: 'not base64!' })
    assert.equal(bad.status, 400)
    assert.match(bad.body.error, /dataBase64 must be standard base64/)
    const notTty = await server.api('POST', `/jobs/${id}/resize`, { cols: 100, rows: 30 })
    assert.equal(notTty.status, 409)
    assert.equal(notTty.body.code, 'NOT_A_TTY_JOB')
    const tooWide = await server.api('POST', `/jobs/${id}/resize`, { cols: 100000, rows: 30 })
    assert.equal(tooWide.status, 400)
    await server.api('POST', `/jobs/${id}/stdin`, { data: '', eof: true })
    await server.finished(id)
  })

  test('tty is refused for persistent-shell and ACP jobs, and bad sizes are refused', async () => {
    for (const body of [
      { mode: 'persistent_shell', sessionKey: 'k', command: 'true', tty: true },
      { mode: 'acp', prompt: 'hi', tty: true },
    ]) {
      const answer = await server.api('POST', '/exec', body)
      assert.equal(answer.status, 400, JSON.stringify(body))
      assert.match(answer.body.error, /tty: true is only for shell jobs, not mode (persistent_shell|acp)/)
    }
    const wide = await server.api('POST', '/exec', { command: 'true', tty: true, cols: 5000 })
    assert.equal(wide.status, 400)
    assert.match(wide.body.error, /cols must be an integer from 10 to 500/)
    const notBool = await server.api('POST', '/exec', { command: 'true', tty: 'yes' })
    assert.equal(notBool.status, 400)
    assert.match(notBool.body.error, /tty must be a boolean/)
  })
})

describe('tty jobs across updates and restarts', () => {
  test('a running tty job blocks the update; one submitted during a drain waits while shell jobs go on', async () => {
    let restarts = 0
    const server = await startServer({}, {}, { onRestart: () => { restarts++ } })
    try {
      const running = await server.submit({ command: `echo ready; sleep ${marker()}`, tty: true })
      await waitFor(async () => (await server.api('GET', `/jobs/${running}`)).body.stdout.includes('ready'), 'the job to run')
      const refused = await server.api('POST', '/update')
      assert.equal(refused.status, 409)
      assert.deepEqual(refused.body, { error: 'cannot update while tty jobs are running', tty_jobs: 1, running_jobs: 1, code: 'UPDATE_BLOCKED' })
      await server.api('POST', `/jobs/${running}/kill`)
      await server.finished(running)

      const short = await server.submit({ command: 'read line; echo "short $line"', tty: true })
      await waitFor(async () => (await server.api('GET', `/jobs/${short}`)).body.status === 'running', 'the short job to run')
      const update = server.api('POST', '/update', { drain: 30 })
      const queued = await server.submit({ command: 'echo after the update', tty: true })
      const shell = await server.submit({ command: 'echo shell jobs still run' })
      assert.equal((await server.finished(shell)).stdout, 'shell jobs still run\n')
      assert.equal((await server.api('GET', `/jobs/${queued}`)).body.status, 'pending')
      // Why through the app: the HTTP routes answer 503 while the server drains.
      await server.app.inject({ method: 'POST', url: `/jobs/${short}/stdin`, headers: { 'x-api-key': server.key }, payload: { data: 'done\n' } })
      assert.equal((await update).status, 200)
      await waitFor(() => restarts === 1, 'the restart hook')
      await server.app.close()

      const next = await startServer({ stateDir: server.stateDir })
      try {
        assert.match((await next.finished(short)).stdout, /short done/)
        const after = await next.finished(queued)
        assert.equal(after.status, 'completed')
        assert.equal(after.stdout, 'after the update\r\n')
      } finally {
        await next.close()
      }
    } finally {
      await server.close().catch(() => {})
    }
  })

  test('a tty job running when the server dies ends failed as lost, and nothing of it is left', async () => {
    const stateDir = makeStateDir()
    const m = marker()
    try {
      const first = await spawnServer(stateDir)
      const { body } = await call(first, 'POST', '/exec', { command: `trap '' HUP; echo ready; sleep ${m}`, tty: true })
      await waitFor(async () => (await call(first, 'GET', `/jobs/${body.jobId}`)).body.stdout.includes('ready'), 'the job to run')
      await first.stop('SIGKILL')
      const second = await spawnServer(stateDir)
      try {
        const { body: job } = await call(second, 'GET', `/jobs/${body.jobId}`)
        assert.equal(job.status, 'failed')
        assert.match(job.error, /^lost: the server stopped while this tty job ran/)
        await waitFor(() => processesMatching(`sleep ${m}`).length === 0, 'the job\'s processes to be gone')
      } finally {
        await second.stop()
      }
    } finally {
      rmSync(stateDir, { recursive: true, force: true })
    }
  })
})
