import assert from 'node:assert/strict'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { call, spawnServer, type ServerProcess } from '../helpers/cli-process.js'
import { killMatching, processesMatching } from '../helpers/processes.js'
import { makeStateDir, startServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

describe('POST /update', () => {
  const dirs: string[] = []
  const servers: ServerProcess[] = []
  const start = async (dir: string, args: string[] = []): Promise<ServerProcess> => {
    const server = await spawnServer(dir, args)
    servers.push(server)
    return server
  }
  const fresh = (): string => { const dir = makeStateDir(); dirs.push(dir); return dir }
  after(async () => {
    for (const server of servers) await server.stop('SIGKILL')
    for (const dir of dirs) { killMatching(dir); rmSync(dir, { recursive: true, force: true }) }
  })

  test('answers devpilot\'s 200, exits 42, and the next server finishes the running shell job', async () => {
    const dir = fresh()
    const first = await start(dir)
    const { body: job } = await call(first, 'POST', '/exec', { command: 'echo begin; sleep 3; echo end; exit 5' })
    await waitFor(async () => (await call(first, 'GET', `/jobs/${job.jobId}`)).body.stdout === 'begin\n', 'the job to start')
    const exited = new Promise<number | null>((resolve) => first.child.once('exit', (code) => resolve(code)))
    const update = await call(first, 'POST', '/update')
    assert.equal(update.status, 200)
    assert.deepEqual(update.body, { status: 'updating', version: JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version, message: 'Server will restart for update' })
    assert.equal(await exited, 42)
    const second = await start(dir)
    const finished = await waitFor(async () => {
      const { body } = await call(second, 'GET', `/jobs/${job.jobId}?wait=10`)
      return body.status === 'running' ? undefined : body
    }, 'the job to end', 30_000)
    assert.equal(finished.status, 'failed')
    assert.equal(finished.exitCode, 5)
    assert.equal(finished.stdout, 'begin\nend\n')
  })

  test('a flood of submissions during the update: every 202 job runs exactly once after the restart; the rest got 503 or no answer', async () => {
    const dir = fresh()
    const ledger = join(dir, 'ledger')
    const first = await start(dir)
    const accepted: string[] = []
    const refused: number[] = []
    const flooding = new AbortController()
    const flood = async (worker: number): Promise<void> => {
      for (let i = 0; !flooding.signal.aborted && i < 500; i++) {
        try {
          const response = await fetch(`${first.url}/exec`, {
            method: 'POST',
            headers: { 'x-api-key': first.key, 'content-type': 'application/json' },
            body: JSON.stringify({ command: `echo ${worker}-${i} >> ${ledger}`, workdir: dir }),
          })
          if (response.status === 202) accepted.push((await response.json() as { jobId: string }).jobId)
          else refused.push(response.status)
        } catch {
          return // the server went away: a connection error, never a silent loss
        }
      }
    }
    const workers = Array.from({ length: 8 }, (_, w) => flood(w))
    await waitFor(() => accepted.length >= 20, 'some accepted jobs')
    const exited = new Promise<number | null>((resolve) => first.child.once('exit', (code) => resolve(code)))
    assert.equal((await call(first, 'POST', '/update')).status, 200)
    assert.equal(await exited, 42)
    flooding.abort()
    await Promise.all(workers)
    assert.ok(refused.every((status) => status === 503), `refused with ${[...new Set(refused)].join(', ')}`)
    const second = await start(dir)
    for (const id of accepted) {
      await waitFor(async () => {
        const { body } = await call(second, 'GET', `/jobs/${id}?wait=20`)
        return body.status === 'completed'
      }, `job ${id} to complete`, 60_000)
    }
    const lines = readFileSync(ledger, 'utf8').trim().split('\n')
    assert.equal(lines.length, accepted.length, 'each accepted job ran, and only once')
    assert.equal(new Set(lines).size, lines.length)
  })

  test('a long-poll in flight gets its answer before the server exits 42', async () => {
    const dir = fresh()
    const first = await start(dir)
    const poll = call(first, 'GET', `/jobs/${(await call(first, 'POST', '/exec', { command: 'sleep 30' })).body.jobId}?wait=60`)
    const exited = new Promise<number | null>((resolve) => first.child.once('exit', (code) => resolve(code)))
    assert.equal((await call(first, 'POST', '/update', { drain: 1 })).status, 200)
    assert.equal((await poll).status, 200)
    assert.equal(await exited, 42)
  })

  test('a bad body is a 400 and no update happens', async () => {
    const dir = fresh()
    const first = await start(dir)
    const response = await call(first, 'POST', '/update', { drain: 'soon' })
    assert.equal(response.status, 400)
    assert.equal((await call(first, 'GET', '/health')).body.draining, false)
  })
})

describe('POST /update inside one process', () => {
  test('after the 200, /health reports draining, other requests get 503 with Retry-After, and jobs are left running', async () => {
    let restarts = 0
    const server = await startServer({}, {}, { onRestart: () => { restarts++ } })
    const m = `1000.${Math.floor(Math.random() * 1e9)}`
    try {
      const id = await server.submit({ command: `sleep ${m}` })
      await waitFor(async () => (await server.api('GET', `/jobs/${id}`)).body.status === 'running', 'the job to run')
      // Why: a job is `running` from its fork on; under load its `sleep` can exec a little later.
      await waitFor(() => processesMatching(`sleep ${m}`).length > 0, 'the job\'s sleep to start')
      assert.equal((await server.api('POST', '/update')).status, 200)
      await waitFor(() => restarts === 1, 'the restart hook')
      const health = await server.api('GET', '/health')
      assert.equal(health.status, 200)
      assert.equal(health.body.draining, true)
      const refused = await server.api('GET', '/jobs')
      assert.equal(refused.status, 503)
      assert.equal(refused.body.code, 'SERVER_DRAINING')
      assert.equal(refused.headers.get('retry-after'), '5')
      assert.equal((await server.api('POST', '/exec', { command: 'true' })).status, 503)
      assert.ok(processesMatching(`sleep ${m}`).length > 0, 'the job still runs: it was detached, not killed')
    } finally {
      killMatching(`sleep ${m}`)
      await server.app.close()
      killMatching(server.stateDir)
      rmSync(server.stateDir, { recursive: true, force: true })
    }
    assert.equal(restarts, 1)
  })
})
