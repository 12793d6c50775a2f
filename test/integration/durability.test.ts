import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { call, spawnServer, type ServerProcess } from '../helpers/cli-process.js'
import { killMatching, processesMatching } from '../helpers/processes.js'
import { makeStateDir, startServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

const marker = (): string => `1000.${Math.floor(Math.random() * 1e9)}`

async function finished (server: ServerProcess, id: string): Promise<any> {
  return waitFor(async () => {
    const { body } = await call(server, 'GET', `/jobs/${id}?wait=20`)
    return body.status === 'pending' || body.status === 'running' ? undefined : body
  }, `job ${id} to finish`, 60_000)
}

describe('jobs survive a server that is killed with kill -9', () => {
  const dirs: string[] = []
  const servers: ServerProcess[] = []
  const fresh = (): string => { const dir = makeStateDir(); dirs.push(dir); return dir }
  const start = async (dir: string, args: string[] = []): Promise<ServerProcess> => {
    const server = await spawnServer(dir, args)
    servers.push(server)
    return server
  }
  after(async () => {
    for (const server of servers) await server.stop('SIGKILL')
    for (const dir of dirs) { killMatching(dir); rmSync(dir, { recursive: true, force: true }) }
  })

  test('a running job is re-adopted by the next server and finishes with its real exit code and output', async () => {
    const dir = fresh()
    const first = await start(dir)
    const { body } = await call(first, 'POST', '/exec', { command: 'echo start; sleep 2; echo done' })
    await waitFor(async () => (await call(first, 'GET', `/jobs/${body.jobId}`)).body.stdout === 'start\n', 'the job to start')
    await first.stop('SIGKILL')
    const second = await start(dir)
    const listed = (await call(second, 'GET', '/jobs')).body as any[]
    assert.ok(listed.some((j) => j.jobId === body.jobId), 'the job is listed after the restart')
    const job = await finished(second, body.jobId)
    assert.equal(job.status, 'completed')
    assert.equal(job.exitCode, 0)
    assert.equal(job.stdout, 'start\ndone\n')
  })

  test('a job whose process died while no server ran ends failed and says it was lost', async () => {
    const dir = fresh()
    const m = marker()
    const first = await start(dir)
    const { body } = await call(first, 'POST', '/exec', { command: `sleep ${m}` })
    await waitFor(() => processesMatching(`sleep ${m}`).length > 0, 'the job to start')
    const { pid } = (await call(first, 'GET', `/jobs/${body.jobId}`)).body
    await first.stop('SIGKILL')
    // The job's whole group (its recorder, whichever way it was started, and the command).
    process.kill(-pid, 'SIGKILL')
    await waitFor(() => processesMatching(`sleep ${m}`).length === 0 && !existsSync(`/proc/${pid}/cmdline`), 'the job processes to die')
    const second = await start(dir)
    const job = (await call(second, 'GET', `/jobs/${body.jobId}`)).body
    assert.equal(job.status, 'failed')
    assert.match(job.error, /lost/)
  })

  test('a job that ended while no server ran reports the status its wrapper recorded', async () => {
    const dir = fresh()
    const first = await start(dir)
    const { body } = await call(first, 'POST', '/exec', { command: 'read x; echo bye; exit 4' })
    await waitFor(async () => (await call(first, 'GET', `/jobs/${body.jobId}`)).body.status === 'running', 'the job to start')
    await first.stop('SIGKILL') // its stdin closes: `read` returns and the job exits 4 on its own
    await waitFor(() => existsSync(join(dir, 'jobs', body.jobId, 'exit')), 'the exit file')
    const second = await start(dir)
    const job = (await call(second, 'GET', `/jobs/${body.jobId}`)).body
    assert.equal(job.status, 'failed')
    assert.equal(job.exitCode, 4)
    assert.equal(job.stdout, 'bye\n')
  })

  test('pending jobs start on the next server, in order, one after the other', async () => {
    const dir = fresh()
    const ledger = join(dir, 'ledger')
    const first = await start(dir, ['--max-concurrent-jobs', '1'])
    const blocker = (await call(first, 'POST', '/exec', { command: `sleep 2; echo blocker >> ${ledger}` })).body.jobId
    const a = (await call(first, 'POST', '/exec', { command: `echo a >> ${ledger}; echo a` })).body.jobId
    const b = (await call(first, 'POST', '/exec', { command: `echo b >> ${ledger}; echo b` })).body.jobId
    await first.stop('SIGKILL')
    const killedAt = Date.now() / 1000
    const second = await start(dir, ['--max-concurrent-jobs', '1'])
    const jobBlocker = await finished(second, blocker)
    assert.equal(jobBlocker.status, 'completed')
    const jobA = await finished(second, a)
    const jobB = await finished(second, b)
    assert.equal(jobA.stdout, 'a\n')
    assert.equal(jobB.stdout, 'b\n')
    assert.deepEqual(readFileSync(ledger, 'utf8').split('\n'), ['blocker', 'a', 'b', ''], 'the jobs ran in the order they were submitted')
    assert.ok(jobA.startedAt > killedAt, `a started on the second server (${jobA.startedAt} after ${killedAt})`)
    // One run slot: each job started only once the one before it had ended.
    assert.ok(jobBlocker.finishedAt <= jobA.startedAt, `a started at ${jobA.startedAt}, before the blocker ended at ${jobBlocker.finishedAt}`)
    assert.ok(jobA.finishedAt <= jobB.startedAt, `b started at ${jobB.startedAt}, before a ended at ${jobA.finishedAt}`)
    assert.ok(jobA.startedAt < jobB.startedAt, `a started at ${jobA.startedAt}, not before b at ${jobB.startedAt}`)
  })

  test('a normal stop cancels running and pending jobs, kills their processes and exits 0', async () => {
    const dir = fresh()
    const m = marker()
    const first = await start(dir, ['--max-concurrent-jobs', '1', '--kill-grace', '1'])
    const running = (await call(first, 'POST', '/exec', { command: `sleep ${m} & sleep ${m}` })).body.jobId
    const pending = (await call(first, 'POST', '/exec', { command: 'echo never' })).body.jobId
    await waitFor(() => processesMatching(`sleep ${m}`).length >= 2, 'the job to start')
    assert.equal(await first.stop('SIGTERM'), 0)
    assert.deepEqual(processesMatching(`sleep ${m}`), [])
    const second = await start(dir)
    for (const id of [running, pending]) {
      const job = (await call(second, 'GET', `/jobs/${id}`)).body
      assert.equal(job.status, 'cancelled')
      assert.equal(job.error, 'server stopped')
    }
  })
})

describe('retention', () => {
  test('only the newest finished jobs are kept, and the files of removed jobs are deleted', async () => {
    const server = await startServer({ jobRetention: '2' })
    try {
      const ids: string[] = []
      for (let i = 0; i < 4; i++) {
        ids.push(await server.submit({ command: `echo ${i}` }))
        await server.finished(ids[i] as string)
      }
      // Why without dot names: `jobs/.prepared` holds the launcher's folders made ahead of time.
      const jobFolders = (): string[] => readdirSync(join(server.stateDir, 'jobs')).filter((name) => !name.startsWith('.'))
      await waitFor(async () => ((await server.api('GET', '/jobs')).body as any[]).length === 2 &&
        jobFolders().length === 2, 'old jobs and their files to be removed')
      const kept = ((await server.api('GET', '/jobs')).body as any[]).map((j) => j.jobId)
      assert.deepEqual(kept, [ids[3], ids[2]])
      assert.equal((await server.api('GET', `/jobs/${ids[0]}`)).status, 404)
      assert.deepEqual(jobFolders().sort(), [ids[2], ids[3]].sort())
    } finally {
      await server.close()
    }
  })
})

describe('the leak check of the tests', () => {
  test('finds a job\'s background processes by the state directory, while the job runs and after its shell ended', async () => {
    const server = await startServer()
    const m = marker()
    try {
      // One background sleep keeps the job's stdout open; the other writes nowhere and is found through the job's session.
      const running = await server.submit({ command: `sleep ${m} >/dev/null 2>&1 & echo $!; sleep ${m}` })
      const quietPid = Number(await waitFor(async () => (await server.api('GET', `/jobs/${running}`)).body.stdout.trim(), 'the first job to start'))
      assert.ok(processesMatching(server.stateDir).includes(quietPid), `pid ${quietPid} found while its job runs`)
      const ended = await server.submit({ command: `sleep ${m} & echo $!` })
      const orphanPid = Number((await server.finished(ended)).stdout.trim())
      assert.ok(processesMatching(server.stateDir).includes(orphanPid), `pid ${orphanPid} found after its job ended`)
      assert.ok(!processesMatching(server.stateDir).includes(process.pid), 'never the test process itself')
      killMatching(server.stateDir)
      await waitFor(() => processesMatching(`sleep ${m}`).length === 0, 'the sleeps to be killed')
    } finally {
      killMatching(`sleep ${m}`)
      await server.close()
    }
  })
})
