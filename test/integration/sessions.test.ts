// Persistent shell sessions through HTTP: every command is a job. What the SessionPool alone
// proves (completion cases, kill sequence, stdin edge cases, re-adoption details) lives in
// sessions-core.test.ts; this file proves the wiring.
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { call, spawnServer, type ServerProcess } from '../helpers/cli-process.js'
import { killMatching } from '../helpers/processes.js'
import { makeStateDir, startServer, type TestServer } from '../helpers/server.js'
import { agentArgv, marker, SCRIPTED_AGENT } from '../helpers/acp.js'
import { POSIX_SHELLS } from '../helpers/sessions.js'
import { collectEvents } from '../helpers/sse.js'
import { waitFor } from '../helpers/wait.js'

const servers: TestServer[] = []
const dirs: string[] = []
const processes: ServerProcess[] = []

async function server (options: Record<string, string> = {}, env: NodeJS.ProcessEnv = {}): Promise<TestServer> {
  const s = await startServer(options, env)
  servers.push(s)
  return s
}

function scratch (): string {
  const dir = mkdtempSync(join(tmpdir(), 'agent-runtime-sessions-'))
  dirs.push(dir)
  return dir
}

// Why: a stop leaves sessions running for the next server; a test ends them itself.
async function closeAll (): Promise<void> {
  for (const s of servers.splice(0)) {
    for (const info of (await s.api('GET', '/sessions')).body as Array<{ sessionKey: string }>) {
      await s.api('DELETE', `/sessions/${encodeURIComponent(info.sessionKey)}`)
    }
    await s.close()
  }
  for (const p of processes.splice(0)) await p.stop('SIGKILL')
  for (const dir of dirs.splice(0)) {
    killMatching(dir)
    rmSync(dir, { recursive: true, force: true })
  }
}

after(closeAll)

const session = (sessionKey: string, command: string, extra: Record<string, unknown> = {}): Record<string, unknown> =>
  ({ mode: 'persistent_shell', sessionKey, shell: 'bash', command, ...extra })

describe('persistent shell sessions over HTTP', () => {
  for (const shell of ['bash', 'zsh', 'sh'] as const) {
    const skip = POSIX_SHELLS.includes(shell) ? false : `${shell} is not installed here`
    test(`a ${shell} session keeps cwd, variables and functions from one job to the next`, { skip }, async () => {
      const s = await server()
      const dir = scratch()
      const first = await s.finished(await s.submit(session('state', `f() { echo "fn $1"; }; export X=1; Y=2; cd ${dir}`, { shell })))
      assert.equal(first.status, 'completed')
      assert.equal(first.mode, 'persistent_shell')
      assert.equal(first.sessionKey, 'state')
      assert.equal(first.shell, shell)
      const second = await s.finished(await s.submit(session('state', 'f ok; echo "$X $Y $PWD"', { shell })))
      assert.equal(second.status, 'completed')
      assert.equal(second.stdout, `fn ok\n1 2 ${dir}\n`)
    })
  }

  test('a session command is a job like any other: Idempotency-Key, live events with its exit, raw output bytes', async () => {
    const s = await server()
    const body = session('job', 'printf "a\\nb"; printf err >&2; (exit 4)')
    const first = await s.api('POST', '/exec', body, { 'idempotency-key': 'same' })
    const again = await s.api('POST', '/exec', body, { 'idempotency-key': 'same' })
    assert.equal(first.status, 202)
    assert.equal(again.status, 200)
    assert.equal(again.body.jobId, first.body.jobId)
    const id = first.body.jobId as string
    const events = await collectEvents(`${s.url}/jobs/${id}/events`, s.key)
    const exit = events.find((e) => e.event === 'exit')
    assert.deepEqual(exit?.data, { status: 'failed', exitCode: 4, signal: null, error: null })
    assert.equal(events.filter((e) => e.event === 'output' && e.data.stream === 'stdout').map((e) => e.data.data).join(''), 'a\nb')
    const raw = await fetch(`${s.url}/jobs/${id}/stderr`, { headers: { 'x-api-key': s.key } })
    assert.equal(await raw.text(), 'err')
    assert.equal((await s.api('GET', '/jobs?limit=1')).body[0].jobId, id)
  })

  test('a timeout interrupts the command but keeps the session: the next command sees the variable', async () => {
    const s = await server()
    const timedOut = await s.finished(await s.submit(session('t', 'export X=1; sleep 100', { timeout: 1 })))
    assert.equal(timedOut.status, 'timeout')
    assert.equal(timedOut.timedOut, true)
    assert.equal(timedOut.error, 'timed out after 1 s')
    const next = await s.finished(await s.submit(session('t', 'echo $X')))
    assert.equal(next.stdout, '1\n')
  })

  test('exit 3 fails the job saying so; the next command runs in a new shell with the seed and the bootstrap', async () => {
    const s = await server()
    const dir = scratch()
    const first = await s.finished(await s.submit(session('e', 'cd /; exit 3', { workdir: dir, env: { SEED: 's' }, bootstrapCommand: 'B=boot' })))
    assert.equal(first.status, 'failed')
    assert.match(first.error, /ended the session's shell \(exit status 3\)/)
    const next = await s.finished(await s.submit(session('e', 'echo "$SEED $B $PWD"', { workdir: '/', env: { SEED: 'ignored' } })))
    assert.equal(next.status, 'completed')
    assert.equal(next.stdout, `s boot ${dir}\n`)
  })

  test('commands of one session run in submission order, waiting as pending jobs with a position; other sessions run meanwhile', async () => {
    const s = await server()
    const dir = scratch()
    const go = join(dir, 'go')
    const order = join(dir, 'order')
    const a1 = await s.submit(session('a', `until [ -e ${go} ]; do sleep 0.05; done; echo 1 >> ${order}`, { timeout: 60 }))
    const a2 = await s.submit(session('a', `echo 2 >> ${order}`))
    const a3 = await s.submit(session('a', `echo 3 >> ${order}`))
    await waitFor(async () => (await s.api('GET', `/jobs/${a1}`)).body.status === 'running', 'the first command to run')
    const waiting = (await s.api('GET', `/jobs/${a2}`)).body
    assert.equal(waiting.status, 'pending')
    assert.equal(typeof waiting.queuePosition, 'number')
    // Session b runs while a's first command still waits for the file b creates.
    const b = await s.finished(await s.submit(session('b', `touch ${go}; echo b`)))
    assert.equal(b.stdout, 'b\n')
    for (const id of [a1, a2, a3]) assert.equal((await s.finished(id)).status, 'completed')
    assert.equal(readFileSync(order, 'utf8'), '1\n2\n3\n')
  })

  test("every devpilot validation message answers 400 in devpilot's order", async () => {
    const s = await server()
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ mode: 'persistent_shell', env: 'x', command: 'ls' }, 'env must be an object of string key/value pairs'],
      [{ mode: 'persistent_shell', sessionKey: 'k', shell: 'bash' }, 'command is required'],
      [{ mode: 'persistent_shell', command: 'ls', shell: 'bash' }, 'sessionKey is required'],
      [{ mode: 'persistent_shell', command: 'ls', sessionKey: 'k' }, 'shell is required'],
      [{ mode: 'persistent_shell', command: 'ls', sessionKey: 'k', shell: 'bash', bootstrapCommand: 5 }, 'bootstrapCommand must be a string'],
      [{ mode: 'persistent_shell', command: 'ls', sessionKey: 'k', shell: 'bash', bootstrapCurrentCommand: 'yes' }, 'bootstrapCurrentCommand must be a boolean'],
      [{ mode: 'persistent_shell', command: 'ls', sessionKey: 'k', shell: 'fish' }, 'unsupported shell: fish'],
    ]
    for (const [body, message] of cases) {
      const response = await s.api('POST', '/exec', body)
      assert.equal(response.status, 400, JSON.stringify(body))
      assert.deepEqual(response.body, { error: message, code: 'INVALID_REQUEST' }, JSON.stringify(body))
    }
  })

  test('/sessions shows a session through a command\'s life: running with its job, idle after, then deleted', async () => {
    const s = await server()
    const dir = scratch()
    const go = join(dir, 'go')
    const key = 'team/a?b'
    const path = `/sessions/${encodeURIComponent(key)}`
    assert.deepEqual((await s.api('GET', path)).body, { error: 'session not found', code: 'SESSION_NOT_FOUND' })
    const id = await s.submit(session(key, `cd ${dir}; until [ -e ${go} ]; do sleep 0.05; done; echo out`, { timeout: 60 }))
    const running = await waitFor(async () => {
      const info = (await s.api('GET', path)).body
      return info.activeCommand === true && info.processAlive === true ? info : undefined
    }, 'the command to run')
    assert.equal(running.sessionKey, key)
    assert.equal(running.shell, 'bash')
    assert.equal(running.status, 'running')
    assert.equal(running.processAlive, true)
    assert.equal(running.jobId, id)
    assert.equal(typeof running.createdAt, 'number')
    assert.equal(typeof running.lastUsedAt, 'number')
    writeFileSync(go, '')
    await s.finished(id)
    const idle = (await s.api('GET', path)).body
    assert.equal(idle.status, 'idle')
    assert.equal(idle.activeCommand, false)
    assert.equal(idle.jobId, null)
    assert.equal(idle.cwd, dir)
    assert.equal(typeof idle.lastOutputAt, 'number')
    assert.deepEqual((await s.api('GET', '/sessions')).body.map((i: { sessionKey: string }) => i.sessionKey), [key])
    assert.equal((await s.api('GET', '/health')).body.persistent_shell_sessions, 1)
    assert.deepEqual((await s.api('DELETE', path)).body, { deleted: true, sessionKey: key })
    assert.equal((await s.api('GET', path)).status, 404)
    assert.equal((await s.api('DELETE', path)).status, 404)
  })

  test('kill interrupts a command and keeps the session; nudge and stdin reach the running command', async () => {
    const s = await server()
    const sleeper = await s.submit(session('k', 'export KEPT=yes; sleep 100'))
    await waitFor(async () => (await s.api('GET', `/jobs/${sleeper}`)).body.status === 'running', 'the command to run')
    assert.equal((await s.api('POST', `/jobs/${sleeper}/kill`)).status, 200)
    const killed = await s.finished(sleeper)
    assert.equal(killed.status, 'cancelled')
    const reader = await s.submit(session('k', 'read x; echo "got:$x:$KEPT"; read y; echo "then:$y"'))
    await waitFor(async () => (await s.api('GET', `/jobs/${reader}`)).body.status === 'running', 'the reader to run')
    assert.deepEqual((await s.api('POST', `/jobs/${reader}/nudge`)).body, { nudged: true, processAlive: true })
    assert.equal((await s.api('POST', `/jobs/${reader}/stdin`, { data: 'hi\n' })).body.written, 3)
    const done = await s.finished(reader)
    assert.equal(done.stdout, 'got::yes\nthen:hi\n')
    assert.deepEqual((await s.api('POST', `/jobs/${reader}/nudge`)).body, { nudged: false, reason: 'persistent session not running', processAlive: false })
  })

  test('a session unused for the idle timeout is ended', async () => {
    const s = await server({ sessionIdleTimeout: '1' })
    await s.finished(await s.submit(session('idle', 'true')))
    assert.equal((await s.api('GET', '/health')).body.persistent_shell_idle_timeout_seconds, 1)
    await waitFor(async () => (await s.api('GET', '/sessions/idle')).status === 404, 'the idle session to end', 10_000)
  })

  test('over the session limit the job fails with devpilot\'s message; an existing session goes on', async () => {
    const s = await server({ maxSessions: '1' })
    assert.equal((await s.finished(await s.submit(session('one', 'true')))).status, 'completed')
    const refused = await s.finished(await s.submit(session('two', 'true')))
    assert.equal(refused.status, 'failed')
    assert.match(refused.error, /maximum persistent shell sessions reached/)
    const mismatch = await s.finished(await s.submit(session('one', 'true', { shell: 'sh' })))
    assert.match(mismatch.error, /session 'one' already uses shell 'bash'/)
    assert.equal((await s.finished(await s.submit(session('one', 'echo again')))).stdout, 'again\n')
    assert.equal((await s.api('GET', '/health')).body.persistent_shell_max_sessions, 1)
  })
})

describe('ACP terminals in a persistent session', () => {
  test("an ACP job's terminal commands run in the named session: its state carries over to HTTP commands, and the workdir sandbox holds", async () => {
    const s = await server()
    const workdir = scratch()
    const outside = scratch()
    const steps = [
      { terminal: { create: { command: 'export FROM_AGENT=yes; echo "one $SEEDED"' } } },
      { terminal: { create: { command: 'echo "$FROM_AGENT $PWD"' } } },
      { terminal: { create: { command: 'pwd', cwd: outside } } },
      { terminal: { create: { command: 'printf', args: ['%s|', 'a b', "it's"] } } },
    ]
    const id = await s.submit({
      mode: 'acp',
      agent: agentArgv(SCRIPTED_AGENT, marker()).map((a) => `'${a}'`).join(' '),
      prompt: JSON.stringify(steps),
      workdir,
      env: { SEEDED: 'seed' },
      persistent_session_key: 'agent-k',
      persistent_shell: 'bash',
    })
    const job = await s.finished(id, 60)
    assert.equal(job.status, 'completed', job.acpError)
    assert.equal(job.persistentShell, 'bash')
    const [first, second, escaped, words] = (job.stdout as string).trim().split('\n').map((line) => JSON.parse(line))
    assert.deepEqual(first.exit, { exitCode: 0, signal: null })
    assert.equal(first.output.output, 'one seed\n')
    assert.equal(second.output.output, `yes ${workdir}\n`)
    assert.match(escaped.error.message, /cwd outside the workdir/)
    assert.equal(words.output.output, "a b|it's|")
    const info = (await s.api('GET', '/sessions/agent-k')).body
    assert.equal(info.status, 'idle')
    const next = await s.finished(await s.submit(session('agent-k', 'echo "$FROM_AGENT"')))
    assert.equal(next.stdout, 'yes\n')
  })
})

describe('persistent shell sessions outlive the server', () => {
  const start = async (dir: string): Promise<ServerProcess> => {
    const p = await spawnServer(dir)
    processes.push(p)
    return p
  }
  const finished = async (p: ServerProcess, id: string): Promise<any> => waitFor(async () => {
    const { body } = await call(p, 'GET', `/jobs/${id}?wait=10`)
    return body.status === 'running' || body.status === 'pending' ? undefined : body
  }, `job ${id} to end`, 30_000)

  test('kill -9 of the server while a command runs: a new server finishes it with its real exit code, and the state lives on', async () => {
    const dir = makeStateDir()
    dirs.push(dir)
    const go = join(dir, 'go')
    const first = await start(dir)
    const { body: job } = await call(first, 'POST', '/exec', session('crash', `export K=5; until [ -e ${go} ]; do sleep 0.05; done; echo done; (exit 7)`, { timeout: 120 }))
    // The job's pid (the shell's) is recorded once the command was handed to the shell.
    await waitFor(async () => (await call(first, 'GET', `/jobs/${job.jobId}`)).body.pid !== null, 'the command to run')
    await first.stop('SIGKILL')
    writeFileSync(go, '')
    const second = await start(dir)
    const ended = await finished(second, job.jobId)
    assert.equal(ended.status, 'failed')
    assert.equal(ended.exitCode, 7)
    assert.equal(ended.stdout, 'done\n')
    const { body: next } = await call(second, 'POST', '/exec', session('crash', 'echo "K=$K"'))
    assert.equal((await finished(second, next.jobId)).stdout, 'K=5\n')
  })

  test('POST /update with an open session succeeds, and the session lives on under the next server', async () => {
    const dir = makeStateDir()
    dirs.push(dir)
    const first = await start(dir)
    const { body: job } = await call(first, 'POST', '/exec', session('upd', 'export U=9'))
    assert.equal((await finished(first, job.jobId)).status, 'completed')
    const pid = (await call(first, 'GET', '/sessions/upd')).body.pid
    const exited = new Promise<number | null>((resolve) => first.child.once('exit', (code) => resolve(code)))
    assert.equal((await call(first, 'POST', '/update')).status, 200)
    assert.equal(await exited, 42)
    const second = await start(dir)
    const info = (await call(second, 'GET', '/sessions/upd')).body
    assert.equal(info.processAlive, true)
    assert.equal(info.pid, pid)
    const { body: next } = await call(second, 'POST', '/exec', session('upd', 'echo "U=$U"'))
    assert.equal((await finished(second, next.jobId)).stdout, 'U=9\n')
    assert.equal(existsSync(join(dir, 'sessions')), true)
  })
})
