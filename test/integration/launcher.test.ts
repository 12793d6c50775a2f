import assert from 'node:assert/strict'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { after, describe, test } from 'node:test'
import { LAUNCHER_BINARY } from '../../src/exec/job-starter.js'
import { call, spawnServer, type ServerProcess } from '../helpers/cli-process.js'
import { processesMatching } from '../helpers/processes.js'
import { makeStateDir } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

const built = existsSync(LAUNCHER_BINARY)

// The launcher process of one server: its child running the launcher binary.
function launcherOf (server: ServerProcess): number | undefined {
  return processesMatching('agent-launcher').find((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === server.child.pid
    } catch { return false }
  })
}

async function finished (server: ServerProcess, id: string): Promise<any> {
  return await waitFor(async () => {
    const job = (await call(server, 'GET', `/jobs/${id}`)).body
    return job.status === 'running' || job.status === 'pending' ? undefined : job
  }, `job ${id} to finish`)
}

describe('job launcher in a running server', () => {
  const servers: ServerProcess[] = []
  const dirs: string[] = []
  after(async () => {
    for (const server of servers) await server.stop('SIGKILL')
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  })
  const start = async (env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> => {
    const dir = makeStateDir()
    dirs.push(dir)
    const server = await spawnServer(dir, [], env)
    servers.push(server)
    return server
  }

  test('a launcher killed with kill -9 is restarted; the running job ends with its real status and a job submitted then runs', { skip: !built && 'the launcher is not built' }, async () => {
    const server = await start()
    const launcher = await waitFor(() => launcherOf(server), 'the launcher to run')
    const running = (await call(server, 'POST', '/exec', { command: 'read x; echo "got $x"; exit 3' })).body.jobId
    await waitFor(async () => (await call(server, 'GET', `/jobs/${running}`)).body.pid !== null, 'the job to start')
    process.kill(launcher, 'SIGKILL')
    const submitted = (await call(server, 'POST', '/exec', { command: 'echo after' })).body.jobId
    const next = await waitFor(() => { const pid = launcherOf(server); return pid !== launcher ? pid : undefined }, 'a new launcher')
    assert.notEqual(next, launcher)
    assert.equal((await call(server, 'POST', `/jobs/${running}/stdin`, { data: 'x\n', eof: true })).status, 200)
    const job = await finished(server, running)
    assert.equal(job.exitCode, 3)
    assert.equal(job.stdout, 'got x\n')
    const late = await finished(server, submitted)
    assert.equal(late.status, 'completed')
    assert.equal(late.stdout, 'after\n')
    assert.match(server.output(), /job launcher ended/)
  })

  test('without a built launcher the server warns once at start and still runs jobs', async () => {
    const server = await start({ AGENT_RUNTIME_LAUNCHER: '/nonexistent/agent-launcher' })
    const id = (await call(server, 'POST', '/exec', { command: 'echo fine; exit 4' })).body.jobId
    const job = await finished(server, id)
    assert.equal(job.exitCode, 4)
    assert.equal(job.stdout, 'fine\n')
    assert.equal(server.output().match(/job launcher is not built/g)?.length, 1)
    assert.equal(launcherOf(server), undefined)
  })
})
