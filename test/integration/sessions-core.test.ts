/* eslint-disable no-template-curly-in-string -- shell commands use ${VAR} */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { closeSync, constants, existsSync, openSync, readdirSync, readFileSync, readlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, test } from 'node:test'
import { sessionMembers, signalSession } from '../../src/exec/process-group.js'
import { SESSION_MESSAGES } from '../../src/sessions/outcomes.js'
import { SessionRunError } from '../../src/sessions/types.js'
import { filesOf, POSIX_SHELLS, resultOf, SHELLS, TestPool, type CommandResult } from '../helpers/sessions.js'
import type { ReAdoptEntry } from '../../src/sessions/types.js'
import { waitFor } from '../helpers/wait.js'

const pools: TestPool[] = []
const shellPids = new Set<number>()

function newPool (options: ConstructorParameters<typeof TestPool>[0] = {}, stateDir?: string): TestPool {
  const pool = new TestPool(options, stateDir)
  pools.push(pool)
  return pool
}

/** Remembers the session's shell, so the clean-up can check that none of its processes is left. */
function track (pool: TestPool, key: string): void {
  const pid = pool.pool.info(key)?.pid
  if (pid) shellPids.add(pid)
}

afterEach(async () => {
  for (const pool of pools.splice(0)) await pool.close()
  const pids = [...shellPids]
  shellPids.clear()
  for (const pid of pids) {
    try {
      await waitFor(() => sessionMembers(pid).length === 0, `session ${pid} to have no process left`, 5000)
    } catch (err) {
      signalSession(pid, 'SIGKILL')
      throw err
    }
  }
})

test('pwsh sessions are not built yet', { skip: SHELLS.present.pwsh ? 'pwsh is installed but pwsh sessions are not implemented' : 'pwsh is not installed on this machine' }, () => {})

for (const shell of POSIX_SHELLS) {
  describe(`a ${shell} session`, () => {
    test('keeps cwd, exported and unexported variables, functions, aliases and options across commands', async () => {
      const p = newPool()
      const first = await p.run('k', 'cd /usr; plain=one; export EXPORTED=two; greet() { echo "hi $1"; }; alias say="echo said"; set -o noglob', { shell })
      assert.equal(first.outcome.exitCode, 0, first.stderr)
      track(p, 'k')
      const second = await p.run('k', 'pwd; echo "$plain $EXPORTED"; greet you; say it; echo /*; sh -c \'echo "child sees ${EXPORTED:-nothing} ${plain:-nothing}"\'', { shell })
      assert.equal(second.stdout, '/usr\none two\nhi you\nsaid it\n/*\nchild sees two nothing\n')
      assert.equal(second.outcome.exitCode, 0)
    })

    test('keeps no descriptor the server inherited, so it never holds a pipe of whatever started the server', async () => {
      const p = newPool()
      await p.run('k', 'true', { shell })
      track(p, 'k')
      const pid = p.pool.info('k')?.pid as number
      const fds = readdirSync(`/proc/${pid}/fd`).map(Number).filter((fd) => fd > 2 && (shell !== 'sh' || fd < 10))
      const targets = fds.map((fd) => { try { return readlinkSync(`/proc/${pid}/fd/${fd}`) } catch { return 'gone' } })
      assert.ok(!targets.some((t) => /^(pipe|socket):/.test(t)), `${shell} holds ${targets.join(', ')}`)
      assert.match(readlinkSync(`/proc/${pid}/fd/2`), /shell\.log$/)
    })

    test('keeps the history of its commands', { skip: shell === 'sh' ? 'dash keeps no history' : false }, async () => {
      const p = newPool()
      await p.run('k', 'echo one', { shell })
      track(p, 'k')
      await p.run('k', 'echo two', { shell })
      const listed = await p.run('k', shell === 'bash' ? 'history' : 'fc -l 1', { shell })
      assert.match(listed.stdout, /1\s+echo one\n\s+2\s+echo two\n/)
    })

    test('aliases and functions named like the builtins the session uses do not break it', async () => {
      const p = newPool()
      const define = shell === 'sh' ? 'alias command=false export=false printf=false' : 'alias builtin=false command=false export=false printf=false; history() { :; }'
      await p.run('k', define, { shell })
      track(p, 'k')
      const next = await p.run('k', 'echo still-here; (exit 6)', { shell })
      assert.deepEqual([next.stdout, next.outcome.exitCode], ['still-here\n', 6])
    })

    test('a syntax error fails the command and keeps the shell; multi-line commands and here-documents run whole', async () => {
      const p = newPool()
      await p.run('k', 'kept=yes', { shell })
      track(p, 'k')
      const broken = await p.run('k', 'echo before; fi', { shell })
      assert.notEqual(broken.outcome.exitCode, 0)
      assert.equal(broken.outcome.error, null)
      const multi = await p.run('k', 'cat <<EOF\nline $kept\nEOF\nfor i in 1 2; do\n  echo "n$i"\ndone', { shell })
      assert.equal(multi.stdout, 'line yes\nn1\nn2\n')
    })

    test('a kill on timeout ends the command and keeps the shell and its state', async () => {
      const p = newPool()
      const killed = await p.run('k', 'export X=1; sleep 100', { shell, timeoutMs: 200 })
      track(p, 'k')
      assert.deepEqual(killed.outcome, { exitCode: 130, signal: 'SIGINT', error: null, timedOut: true, shellRestarted: false })
      const next = await p.run('k', 'echo "X=$X"', { shell })
      assert.equal(next.stdout, 'X=1\n')
      assert.equal(p.pool.info('k')?.pid, [...shellPids].at(-1))
    })

    test('exit inside a command fails the job clearly and the next command starts a new shell with the seed and bootstrap', async () => {
      const p = newPool()
      const seedDir = p.stateDir
      const first = await p.run('k', 'cd /; lost=1', { shell, env: { SEEDED: 'yes' }, bootstrapCommand: 'boot() { echo booted; }' })
      track(p, 'k')
      assert.equal(first.outcome.exitCode, 0, first.stderr)
      const exited = await p.run('k', 'exit 3', { shell })
      assert.deepEqual(exited.outcome, { exitCode: 3, signal: null, error: SESSION_MESSAGES.shellExited(3), timedOut: false, shellRestarted: true })
      assert.equal(p.pool.info('k')?.status, 'stopped')
      const next = await p.run('k', 'pwd; echo "$SEEDED ${lost:-gone}"; boot', { shell })
      track(p, 'k')
      assert.equal(next.stdout, `${seedDir}\nyes gone\nbooted\n`)
    })
  })
}

describe('completion is exact', () => {
  test('the exit status is the real one: 127 for a missing command, 128+n for a signal', async () => {
    const p = newPool()
    const missing = await p.run('k', 'no-such-command-here')
    track(p, 'k')
    assert.equal(missing.outcome.exitCode, 127)
    assert.match(missing.stderr, /no-such-command-here/)
    const signalled = await p.run('k', "sh -c 'kill -TERM $$'")
    assert.deepEqual([signalled.outcome.exitCode, signalled.outcome.signal], [143, 'SIGTERM'])
    const failed = await p.run('k', 'false')
    assert.equal(failed.outcome.exitCode, 1)
  })

  test('output without a trailing newline and binary bytes arrive exactly', async () => {
    const p = newPool()
    const noNewline = await p.run('k', "printf 'no newline'")
    track(p, 'k')
    assert.equal(noNewline.stdout, 'no newline')
    const binary = await p.run('k', "printf '\\000\\377\\001\\n\\200'")
    assert.deepEqual([...binary.stdoutBytes], [0, 0xff, 1, 10, 0x80])
  })

  test('a command printing what looks like a marker or an exit record does not end early', async () => {
    const p = newPool()
    const result = await p.run('k', "echo '0123456789abcdef0123456789abcdef:0'; echo '__DEVPILOT_DONE__x:0' >&2; sleep 0.2; echo real-end; (exit 4)")
    track(p, 'k')
    assert.equal(result.outcome.exitCode, 4)
    assert.match(result.stdout, /real-end\n$/)
  })

  test('a command reading stdin gets what stdin and nudge send, never the next command\'s text', async () => {
    const p = newPool()
    const reader = p.submit('k', 'read first; read second; echo "got:$first:$second"')
    const next = p.submit('k', 'echo next-command-ran')
    await reader.startedPid
    track(p, 'k')
    assert.equal(next.position, 1)
    assert.deepEqual(p.pool.writeStdin(reader.jobId, 'hello\n'), { written: true, bytes: 6, reason: '' })
    assert.deepEqual(p.pool.nudge(reader.jobId), { nudged: true, processAlive: true })
    assert.equal((await reader.done).stdout, 'got:hello:\n')
    assert.equal((await next.done).stdout, 'next-command-ran\n')
    assert.deepEqual(p.pool.nudge(reader.jobId), { nudged: false, reason: 'persistent session not running', processAlive: false })
  })

  test('a command that does not read its stdin takes no more than the pipe holds, and the writer is told', async () => {
    const p = newPool()
    const sleeper = p.submit('k', 'sleep 300', { timeoutMs: 0 })
    await sleeper.startedPid
    track(p, 'k')
    const write = p.pool.writeStdin(sleeper.jobId, Buffer.alloc(1024 * 1024, 97))
    assert.equal(write.written, false)
    assert.ok(write.bytes > 0 && write.bytes < 1024 * 1024)
    assert.match(write.reason, /not reading its stdin/)
    await p.pool.terminate(sleeper.jobId)
    assert.equal((await sleeper.done).outcome.signal, 'SIGINT')
  })

  test('stdin a command left unread never reaches the next command', async () => {
    const p = newPool()
    const first = p.submit('k', 'sleep 0.3; echo first-done')
    await first.startedPid
    track(p, 'k')
    p.pool.writeStdin(first.jobId, 'leftover\n')
    await first.done
    const second = await p.run('k', 'read -t 0.3 line; echo "line:${line:-none}"')
    assert.equal(second.stdout, 'line:none\n')
  })

  test('a command that backgrounds a process completes, and the process lives in the session until it ends', async () => {
    const p = newPool()
    const result = await p.run('k', 'sleep 300 & echo "bg:$!"')
    track(p, 'k')
    assert.equal(result.outcome.exitCode, 0)
    const bgPid = Number(/bg:(\d+)/.exec(result.stdout)?.[1])
    const shellPid = p.pool.info('k')?.pid as number
    assert.ok(sessionMembers(shellPid).includes(bgPid))
    assert.equal((await p.run('k', 'echo still-usable')).stdout, 'still-usable\n')
  })

  test('a shell stuck in a builtin loop after the kill is ended, the job says so, and the next command gets a new shell', async () => {
    const p = newPool()
    const stuck = await p.run('k', 'export GONE=1; while :; do :; done', { timeoutMs: 200 })
    track(p, 'k')
    assert.deepEqual(stuck.outcome, { exitCode: null, signal: 'SIGKILL', error: SESSION_MESSAGES.shellStuck, timedOut: true, shellRestarted: true })
    const next = await p.run('k', 'echo "${GONE:-fresh}"')
    track(p, 'k')
    assert.equal(next.stdout, 'fresh\n')
  })

  test('a command whose timeout passes while it waits in the queue is cancelled without running', async () => {
    const p = newPool()
    const blocker = p.submit('k', 'read line')
    const queued = p.submit('k', `touch ${join(p.stateDir, 'ran')}`, { timeoutMs: 100 })
    await blocker.startedPid
    track(p, 'k')
    const result = await queued.done
    assert.deepEqual(result.outcome, { exitCode: null, signal: null, error: SESSION_MESSAGES.cancelled, timedOut: true, shellRestarted: false })
    p.pool.nudge(blocker.jobId)
    await blocker.done
    assert.equal(existsSync(join(p.stateDir, 'ran')), false)
  })

  test('signal reaches the command\'s processes and never the shell', async () => {
    const p = newPool()
    const running = p.submit('k', "sh -c 'trap \"echo got-usr1; exit 9\" USR1; echo ready; while :; do sleep 0.05; done'")
    await running.startedPid
    track(p, 'k')
    // Why wait for "ready": a signal that arrives before the trap is set kills sh by default (138).
    await waitFor(() => existsSync(running.files.stdout) && readFileSync(running.files.stdout, 'utf8').includes('ready'), 'the trap to be set')
    await waitFor(() => p.pool.signal(running.jobId, 'SIGUSR1') > 0, 'the command to be signalled')
    const result = await running.done
    assert.deepEqual([result.outcome.exitCode, result.stdout], [9, 'ready\ngot-usr1\n'])
    assert.equal(p.pool.info('k')?.processAlive, true)
  })

  test('a session deleted while its shell starts leaves no process behind and fails the command', async () => {
    const p = newPool()
    const starting = p.submit('k', 'echo never')
    const deleted = p.pool.delete('k')
    assert.equal((await starting.done).outcome.error, SESSION_MESSAGES.ended('deleted'))
    await deleted
    const pid = await Promise.race([starting.startedPid, new Promise<number>((resolve) => { setImmediate(() => { resolve(0) }) })])
    if (pid) shellPids.add(pid)
  })

  test('set -e persists like any option: a later failing command ends the shell, and the job says so', async () => {
    const p = newPool()
    await p.run('k', 'set -e')
    track(p, 'k')
    const failing = await p.run('k', 'false; echo not-reached')
    assert.deepEqual([failing.stdout, failing.outcome.exitCode, failing.outcome.error], ['', 1, SESSION_MESSAGES.shellExited(1)])
    assert.equal((await p.run('k', 'false; echo reached')).stdout, 'reached\n')
    track(p, 'k')
  })

  test('a command that ignores SIGINT is ended by SIGTERM', async () => {
    const p = newPool()
    const result = await p.run('k', "sh -c 'trap \"\" INT; sleep 100'", { timeoutMs: 200 })
    track(p, 'k')
    assert.equal(result.outcome.signal, 'SIGTERM')
    assert.equal(result.outcome.shellRestarted, false)
  })
})

describe('order and parallelism', () => {
  test('commands of one session run one at a time in submission order', async () => {
    const p = newPool()
    const log = join(p.stateDir, 'order.log')
    const jobs = [0, 1, 2, 3].map((i) => p.submit('k', `echo start-${i} >> ${log}; sleep 0.05; echo end-${i} >> ${log}`))
    assert.deepEqual(jobs.map((j) => j.position), [0, 1, 2, 3])
    await jobs[0]?.startedPid
    track(p, 'k')
    assert.equal(p.pool.position(jobs[3]?.jobId as string), 3)
    await Promise.all(jobs.map((j) => j.done))
    assert.equal(readFileSync(log, 'utf8'), [0, 1, 2, 3].map((i) => `start-${i}\nend-${i}\n`).join(''))
  })

  test('different sessions run in parallel', async () => {
    const p = newPool()
    const blocked = p.submit('a', 'read line; echo "a:$line"')
    await blocked.startedPid
    track(p, 'a')
    const other = await p.run('b', 'echo b-ran')
    track(p, 'b')
    assert.equal(other.stdout, 'b-ran\n')
    assert.equal(p.pool.info('a')?.status, 'running')
    p.pool.writeStdin(blocked.jobId, 'go\n')
    assert.equal((await blocked.done).stdout, 'a:go\n')
  })
})

describe('seed and bootstrap (devpilot §5.2–5.3)', () => {
  test("the first request's workdir and env seed the session; later ones are ignored", async () => {
    const p = newPool()
    const first = await p.run('k', 'pwd; echo "$SEED_VAR"', { workdir: '/usr', env: { SEED_VAR: 'first' } })
    track(p, 'k')
    assert.equal(first.stdout, '/usr\nfirst\n')
    const second = await p.run('k', 'pwd; echo "${SEED_VAR}:${OTHER:-unset}"', { workdir: '/tmp', env: { SEED_VAR: 'second', OTHER: 'x' } })
    assert.equal(second.stdout, '/usr\nfirst:unset\n')
  })

  test('a bootstrap runs once before the command, its output discarded, and again after every shell restart', async () => {
    const p = newPool()
    const counter = join(p.stateDir, 'boots')
    const boot = `echo boot >> ${counter}; echo noise; helper() { echo helped; }`
    const first = await p.run('k', 'helper', { bootstrapCommand: boot })
    track(p, 'k')
    assert.equal(first.stdout, 'helped\n')
    assert.equal((await p.run('k', 'helper')).stdout, 'helped\n')
    assert.equal(readFileSync(counter, 'utf8'), 'boot\n')
    await p.run('k', 'exit 0')
    assert.equal((await p.run('k', 'helper')).stdout, 'helped\n')
    track(p, 'k')
    assert.equal(readFileSync(counter, 'utf8'), 'boot\nboot\n')
  })

  test('with bootstrapCurrentCommand the command is the bootstrap and is not run twice', async () => {
    const p = newPool()
    const counter = join(p.stateDir, 'boots')
    const boot = `echo boot >> ${counter}`
    await p.run('k', boot, { bootstrapCommand: boot, bootstrapCurrentCommand: true })
    track(p, 'k')
    await p.run('k', 'true')
    assert.equal(readFileSync(counter, 'utf8'), 'boot\n')
  })

  test('a failing bootstrap skips the command and says so', async () => {
    const p = newPool()
    const sideEffect = join(p.stateDir, 'ran')
    const result = await p.run('k', `touch ${sideEffect}`, { bootstrapCommand: 'echo broken >&2; (exit 5)' })
    track(p, 'k')
    assert.deepEqual(result.outcome, { exitCode: 5, signal: null, error: SESSION_MESSAGES.bootstrapFailed(5), timedOut: false, shellRestarted: false })
    assert.equal(result.stderr, 'broken\n')
    assert.equal(existsSync(sideEffect), false)
  })
})

describe('limits and the end of a session', () => {
  test('over the maximum and with another shell under the same key, run throws devpilot\'s errors', async () => {
    const p = newPool({ maxSessions: 1 })
    await p.run('one', 'true')
    track(p, 'one')
    assert.throws(() => p.submit('two', 'true'), (err: unknown) => err instanceof SessionRunError && err.code === 'SESSION_LIMIT' && err.message === 'maximum persistent shell sessions reached')
    assert.throws(() => p.submit('one', 'true', { shell: 'sh' }), { message: "session 'one' already uses shell 'bash'" })
  })

  test('an idle session is ended after the idle timeout, with every process of it', async () => {
    const p = newPool({ idleTimeoutMs: 300 })
    await p.run('k', 'nohup sleep 300 >/dev/null 2>&1 &')
    const pid = p.pool.info('k')?.pid as number
    await waitFor(() => p.pool.info('k') === null, 'the idle session to end')
    await waitFor(() => sessionMembers(pid).length === 0, 'every process of the idle session to end')
  })

  test('delete kills every process of the session, nohup included, and fails the running command', async () => {
    const p = newPool()
    await p.run('k', 'nohup sleep 300 >/dev/null 2>&1 &')
    const running = p.submit('k', 'sleep 300')
    const pid = await running.startedPid
    await waitFor(() => sessionMembers(pid).length >= 3, 'the shell, the nohup\'ed sleep and the running sleep')
    assert.equal(await p.pool.delete('k'), true)
    const result = await running.done
    assert.equal(result.outcome.error, SESSION_MESSAGES.ended('deleted'))
    await waitFor(() => sessionMembers(pid).length === 0, 'every process of the deleted session to end')
    assert.equal(p.pool.info('k'), null)
    assert.equal(await p.pool.delete('k'), false)
  })

  test('the info object follows a command: running with its job, then idle, then stopped', async () => {
    const p = newPool()
    const running = p.submit('k', 'cd /usr; read line')
    await running.startedPid
    track(p, 'k')
    const during = p.pool.info('k')
    assert.equal(during?.status, 'running')
    assert.equal(during?.activeCommand, true)
    assert.equal(during?.jobId, running.jobId)
    assert.equal(during?.processAlive, true)
    await waitFor(() => p.pool.info('k')?.cwd === '/usr', 'the cwd to show /usr')
    p.pool.nudge(running.jobId)
    await running.done
    const after = p.pool.info('k')
    assert.deepEqual([after?.status, after?.activeCommand, after?.jobId, after?.shell], ['idle', false, null, 'bash'])
    assert.ok((after?.lastUsedAt ?? 0) >= (after?.createdAt ?? Infinity))
    await p.run('k', 'exit')
    assert.deepEqual([p.pool.info('k')?.status, p.pool.info('k')?.processAlive], ['stopped', false])
    assert.equal(p.pool.list().length, 1)
  })
})

describe('sessions outlive the server', () => {
  /** A re-adoption entry for `jobId` and the promise of its end. */
  function entryFor (stateDir: string, key: string, jobId: string): { entry: ReAdoptEntry, done: Promise<CommandResult> } {
    const files = filesOf(stateDir, jobId)
    let onDone: (r: CommandResult) => void = () => undefined
    const done = new Promise<CommandResult>((resolve) => { onDone = resolve })
    const entry: ReAdoptEntry = { jobId, sessionKey: key, files, timeoutMs: 0, callbacks: { started: () => undefined, finished: (o) => { onDone(resultOf(jobId, files, o)) } } }
    return { entry, done }
  }

  /** Starts a stand-in server process that runs `command` and returns once the command runs. */
  async function crashingServer (stateDir: string, key: string, jobId: string, command: string): Promise<{ shellPid: number, kill: () => Promise<void> }> {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../fixtures/session-pool-child.ts'), stateDir, key, jobId, command], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
    const line = await waitFor(() => /started (\d+)/.exec(out), 'the stand-in server to start the command', 30_000)
    return {
      shellPid: Number(line[1]),
      kill: async () => {
        child.kill('SIGKILL')
        await once(child, 'exit')
      },
    }
  }

  test('a new pool re-adopts a detached session and its running command, which ends with its real status', async () => {
    const first = new TestPool()
    const running = first.submit('k', 'export K=kept; read line; echo "got:$line"; (exit 5)')
    const shellPid = await running.startedPid
    shellPids.add(shellPid)
    first.pool.detach()
    const second = newPool({}, first.stateDir)
    const { entry, done } = entryFor(first.stateDir, 'k', running.jobId)
    assert.deepEqual(second.pool.reAdopt([entry]), { sessions: 1, adoptedJobs: [running.jobId] })
    assert.equal(second.pool.info('k')?.status, 'running')
    assert.equal(second.pool.writeStdin(running.jobId, 'hi\n').written, true)
    const result = await done
    assert.deepEqual([result.outcome.exitCode, result.stdout], [5, 'got:hi\n'])
    assert.equal((await second.run('k', 'echo "$K"')).stdout, 'kept\n')
    assert.equal(second.pool.info('k')?.pid, shellPid)
  })

  test('a job submitted again after a restart is followed or finished from its record, never run twice', async () => {
    const first = new TestPool()
    const log = join(first.stateDir, 'runs.log')
    const done = await first.run('k', `echo ran >> ${log}; (exit 3)`, { jobId: 'finished-job' })
    assert.equal(done.outcome.exitCode, 3)
    const running = first.submit('k', `echo ran >> ${log}; read line; (exit 4)`, { jobId: 'running-job' })
    shellPids.add(await running.startedPid)
    first.pool.detach()
    const second = newPool({}, first.stateDir)
    second.pool.reAdopt([])
    assert.equal((await second.run('k', `echo ran >> ${log}; (exit 3)`, { jobId: 'finished-job' })).outcome.exitCode, 3)
    const again = second.submit('k', `echo ran >> ${log}; read line; (exit 4)`, { jobId: 'running-job' })
    await again.startedPid
    second.pool.nudge('running-job')
    assert.equal((await again.done).outcome.exitCode, 4)
    assert.equal(readFileSync(log, 'utf8'), 'ran\nran\n')
  })

  test('after kill -9 of the server, a new one finishes the running command with its real exit status and keeps the state', async () => {
    const p = newPool()
    const server = await crashingServer(p.stateDir, 'k', 'crash-job', 'export K=survived; read line; echo "got:$line"; (exit 6)')
    shellPids.add(server.shellPid)
    await server.kill()
    const { entry, done } = entryFor(p.stateDir, 'k', 'crash-job')
    assert.deepEqual(p.pool.reAdopt([entry]).adoptedJobs, ['crash-job'])
    p.pool.writeStdin('crash-job', 'after-crash\n')
    const result = await done
    assert.deepEqual([result.outcome.exitCode, result.stdout], [6, 'got:after-crash\n'])
    assert.equal((await p.run('k', 'echo "$K $FROM_SEED"')).stdout, 'survived seeded\n')
  })

  test('a command that ended while no server ran is finished from its exit file', async () => {
    const p = newPool()
    const server = await crashingServer(p.stateDir, 'k', 'ended-job', 'read line; echo "got:$line"; (exit 7)')
    shellPids.add(server.shellPid)
    await server.kill()
    const fifo = join(p.stateDir, 'sessions', readdirOne(join(p.stateDir, 'sessions')), 'stdin.fifo')
    // The FIFO has a reader once the shell has opened it for the command.
    const shellStdin = await waitFor(() => { try { return openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK) + 1 } catch { return 0 } }, 'the command to open its stdin') - 1
    writeSync(shellStdin, 'alone\n')
    closeSync(shellStdin)
    await waitFor(() => existsSync(filesOf(p.stateDir, 'ended-job').exit), 'the command to end without a server')
    const { entry, done } = entryFor(p.stateDir, 'k', 'ended-job')
    p.pool.reAdopt([entry])
    const result = await done
    assert.deepEqual([result.outcome.exitCode, result.outcome.error, result.stdout], [7, null, 'got:alone\n'])
  })

  test('a session whose shell died while no server ran fails its command clearly and restarts with its seed on the next one', async () => {
    const p = newPool()
    const server = await crashingServer(p.stateDir, 'k', 'lost-job', 'sleep 300')
    await server.kill()
    process.kill(-server.shellPid, 'SIGKILL')
    await waitFor(() => sessionMembers(server.shellPid).length === 0, 'the shell to die')
    const { entry, done } = entryFor(p.stateDir, 'k', 'lost-job')
    const orphan = entryFor(p.stateDir, 'k', 'never-ran')
    p.pool.reAdopt([entry, orphan.entry])
    assert.equal((await done).outcome.error, SESSION_MESSAGES.lostWhileDown)
    assert.equal((await orphan.done).outcome.error, SESSION_MESSAGES.lostWhileDown)
    assert.equal(p.pool.info('k')?.status, 'stopped')
    assert.equal((await p.run('k', 'echo "$FROM_SEED"')).stdout, 'seeded\n')
    track(p, 'k')
  })
})

function readdirOne (dir: string): string {
  const [only] = readdirSync(dir)
  assert.ok(only)
  return only
}
