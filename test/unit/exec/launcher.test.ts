import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { jobFiles, type JobFiles } from '../../../src/exec/job-files.js'
import type { JobProcess, SpawnOptions } from '../../../src/exec/job-process.js'
import { LAUNCHER_BINARY } from '../../../src/exec/job-starter.js'
import { Launcher } from '../../../src/exec/launcher.js'
import { groupAlive } from '../../../src/exec/process-group.js'
import { exitInfoOfProcess } from '../../../src/jobs/outcome.js'
import { createLogger } from '../../../src/logger.js'
import { killMatching } from '../../helpers/processes.js'
import { waitFor } from '../../helpers/wait.js'

const built = existsSync(LAUNCHER_BINARY)

describe('Launcher (the real native launcher, real jobs)', { skip: !built && 'the launcher is not built (npm run build:launcher)' }, () => {
  const stateDir = realpathSync(mkdtempSync(join(tmpdir(), 'launcher-')))
  const launchers: Launcher[] = []
  const fallbackCalls: string[] = []
  let next = 0
  after(() => {
    for (const launcher of launchers) launcher.close()
    rmSync(stateDir, { recursive: true, force: true })
  })

  const newLauncher = (): Launcher => {
    const launcher = new Launcher(LAUNCHER_BINARY, createLogger('silent', false), async (options) => {
      fallbackCalls.push(options.command)
      throw new Error('no fallback here')
    })
    launchers.push(launcher)
    return launcher
  }
  const shared = newLauncher()
  const newFiles = (): JobFiles => {
    const files = jobFiles(stateDir, `job-${next++}`)
    mkdirSync(files.dir, { recursive: true })
    return files
  }
  const options = (files: JobFiles, command: string, extra: Partial<SpawnOptions> = {}): SpawnOptions =>
    ({ files, command, shell: '/bin/sh', cwd: stateDir, env: { PATH: process.env.PATH }, stdin: 'ignore', ...extra })
  const run = async (command: string, extra: Partial<SpawnOptions> = {}, launcher = shared): Promise<{ job: JobProcess, files: JobFiles }> => {
    const files = newFiles()
    return { job: await launcher.start(options(files, command, extra)), files }
  }
  const launcherGone = async (pid: number): Promise<void> => {
    await waitFor(() => !existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z'), 'the launcher to die')
  }

  test("the exit status is the command's own, recorded in the exit file, and output lands in the files", async () => {
    for (const status of [0, 2, 125]) {
      const { job, files } = await run(`echo out; echo err >&2; exit ${status}`)
      assert.deepEqual(exitInfoOfProcess(await job.exited), { exitCode: status, signal: null, error: null })
      assert.equal(readFileSync(files.stdout, 'utf8'), 'out\n')
      assert.equal(readFileSync(files.stderr, 'utf8'), 'err\n')
      assert.equal(readFileSync(files.exit, 'utf8'), `${status}\n`)
    }
  })

  test('a missing command ends with 127 and the shell says so on stderr', async () => {
    const { job, files } = await run('no-such-command-xyz')
    assert.equal((exitInfoOfProcess(await job.exited)).exitCode, 127)
    assert.match(readFileSync(files.stderr, 'utf8'), /no-such-command-xyz/)
  })

  test('output files that cannot be opened are an error on the job; the command does not run', async () => {
    const files = jobFiles(stateDir, 'no-such-folder')
    const marker = join(stateDir, 'ran')
    const job = await shared.start(options(files, `touch ${marker}`))
    assert.deepEqual(exitInfoOfProcess(await job.exited), { exitCode: null, signal: null, error: `could not open the job's output files (${files.stdout})` })
    assert.equal(existsSync(marker), false)
  })

  test('env and workdir reach the command; a shell without a slash is found on PATH', async () => {
    const workdir = realpathSync(mkdtempSync(join(tmpdir(), 'launcher-wd-')))
    const { job, files } = await run('echo "$GREETING" "$(pwd)" "$0"', { cwd: workdir, shell: 'sh', env: { PATH: process.env.PATH, GREETING: 'hello' } })
    assert.equal((exitInfoOfProcess(await job.exited)).exitCode, 0)
    assert.equal(readFileSync(files.stdout, 'utf8'), `hello ${workdir} sh\n`)
    rmSync(workdir, { recursive: true })
  })

  test('stdin written by the server reaches the command, and its end is the end of input', async () => {
    const { job, files } = await run('cat; echo end', { stdin: 'pipe' })
    assert.ok(job.stdin)
    job.stdin.write('one\n')
    job.stdin.write('two\n')
    job.stdin.end()
    assert.equal((exitInfoOfProcess(await job.exited)).exitCode, 0)
    assert.equal(readFileSync(files.stdout, 'utf8'), 'one\ntwo\nend\n')
  })

  test('a job runs in its own process group; terminate ends the whole tree', async () => {
    const { job, files } = await run('sleep 30 & sleep 30 & echo started; wait')
    await waitFor(() => existsSync(files.stdout) && readFileSync(files.stdout, 'utf8') === 'started\n', 'the job to start')
    assert.equal(groupAlive(job.pid), true)
    await job.terminate(5000)
    assert.deepEqual(exitInfoOfProcess(await job.exited), { exitCode: 143, signal: 'SIGTERM', error: null })
    assert.equal(groupAlive(job.pid), false)
  })

  test('a launcher killed with kill -9 leaves its jobs running: they end with their real status, and the next job starts', async () => {
    const launcher = newLauncher()
    const { job, files } = await run('read line; echo "got $line"; exit 7', { stdin: 'pipe' }, launcher)
    const launcherPid = launcher.pid as number
    process.kill(launcherPid, 'SIGKILL')
    // A job asked for while the launcher is dead is started by the next one.
    const late = run('echo late', {}, launcher)
    await launcherGone(launcherPid)
    job.stdin?.write('x\n')
    job.stdin?.end()
    assert.deepEqual(exitInfoOfProcess(await job.exited), { exitCode: 7, signal: null, error: null })
    assert.equal(readFileSync(files.stdout, 'utf8'), 'got x\n')
    const started = await late
    assert.equal((exitInfoOfProcess(await started.job.exited)).exitCode, 0)
    assert.equal(readFileSync(started.files.stdout, 'utf8'), 'late\n')
    await waitFor(() => launcher.pid !== undefined && launcher.pid !== launcherPid, 'a new launcher')
  })

  test('a request sent again for a job already started adopts it instead of starting it twice', async () => {
    const first = await run('sleep 0.3; echo once >> count')
    // The same job asked for again (as after a launcher died before it answered).
    const again = await shared.start(options(first.files, 'echo twice >> count'))
    assert.equal(again.pid, first.job.pid)
    assert.equal((exitInfoOfProcess(await again.exited)).exitCode, 0)
    assert.equal(readFileSync(join(stateDir, 'count'), 'utf8'), 'once\n')
  })

  // A folder the launcher made ahead of time, moved to `jobs/<id>` as the manager would; waits for the stock.
  const preparedFiles = async (launcher: Launcher): Promise<JobFiles> => {
    const files = jobFiles(stateDir, `job-${next++}`)
    mkdirSync(join(stateDir, 'jobs'), { recursive: true })
    await waitFor(() => launcher.takeFolder(files.dir), 'a prepared folder')
    return files
  }
  // How many descriptors of this process point at `path` (the FIFO is unlinked by then: "path (deleted)").
  const openHere = (path: string): number =>
    readdirSync('/proc/self/fd').filter((fd) => { try { return readlinkSync(`/proc/self/fd/${fd}`).startsWith(path) } catch { return false } }).length

  test('a prepared folder holds the output files, the placeholders and the stdin FIFO; a job in it leaves only its own files', async () => {
    const files = await preparedFiles(shared)
    assert.deepEqual(readdirSync(files.dir).sort(), ['exit.ready', 'launch.ready', 'stderr', 'stdin', 'stdout'])
    assert.ok(statSync(join(files.dir, 'stdin')).isFIFO())
    assert.equal(statSync(join(files.dir, 'launch.ready')).mode & 0o777, 0o600)
    const job = await shared.start(options(files, 'read line; echo "got $line"; exit 4', { stdin: 'pipe' }))
    job.stdin?.write('it\n')
    assert.deepEqual(exitInfoOfProcess(await job.exited), { exitCode: 4, signal: null, error: null })
    assert.equal(readFileSync(files.stdout, 'utf8'), 'got it\n')
    assert.equal(readFileSync(files.exit, 'utf8'), '4\n')
    assert.equal(readFileSync(join(files.dir, 'launch'), 'utf8'), `${job.pid}\n`)
    await waitFor(() => !existsSync(join(files.dir, 'launch.ready')) && !existsSync(join(files.dir, 'stdin')), 'the placeholders to go')
    assert.deepEqual(readdirSync(files.dir).sort(), ['exit', 'launch', 'stderr', 'stdout'])
  })

  test('a request sent again for a job started in a prepared folder adopts it instead of starting it twice', async () => {
    const files = await preparedFiles(shared)
    const first = await shared.start(options(files, 'sleep 0.3; echo once >> prepared-count'))
    const again = await shared.start(options(files, 'echo twice >> prepared-count'))
    assert.equal(again.pid, first.pid)
    assert.equal((exitInfoOfProcess(await again.exited)).exitCode, 0)
    assert.equal(readFileSync(join(stateDir, 'prepared-count'), 'utf8'), 'once\n')
  })

  test("the server's end of a job's stdin is closed once the job has ended (written to or not)", async () => {
    for (const write of [false, true]) {
      const files = newFiles()
      const go = join(files.dir, 'go')
      const job = await shared.start(options(files, `while [ ! -e '${go}' ]; do sleep 0.02; done`, { stdin: 'pipe' }))
      if (write) job.stdin?.write('unread\n')
      assert.equal(openHere(join(files.dir, 'stdin')), 1, 'held while the job may read it')
      writeFileSync(go, '')
      await job.exited
      await waitFor(() => openHere(join(files.dir, 'stdin')) === 0, 'the FIFO to be closed')
    }
  })

  test('prepared folders an earlier server left are removed; closing the launcher removes its own', async () => {
    const jobsDir = join(stateDir, 'other-jobs')
    mkdirSync(join(jobsDir, '.prepared', 'left-over'), { recursive: true })
    const launcher = newLauncher()
    assert.equal(launcher.takeFolder(join(jobsDir, 'a')), false, 'none is ready at first')
    assert.deepEqual(readdirSync(join(jobsDir, '.prepared')).filter((name) => name === 'left-over'), [])
    await waitFor(() => readdirSync(join(jobsDir, '.prepared')).length === 8, 'the stock to fill')
    assert.equal(launcher.takeFolder(join(jobsDir, 'b')), true)
    assert.ok(statSync(join(jobsDir, 'b', 'stdin')).isFIFO())
    launcher.close()
    assert.deepEqual(readdirSync(join(jobsDir, '.prepared')).filter((name) => existsSync(join(jobsDir, '.prepared', name, 'stdout'))), [])
  })

  test('a stock removed by hand is made again: submits make their own folders meanwhile', async () => {
    const jobsDir = join(stateDir, 'removed-jobs')
    mkdirSync(jobsDir)
    const launcher = newLauncher()
    launcher.takeFolder(join(jobsDir, 'first'))
    await waitFor(() => readdirSync(join(jobsDir, '.prepared')).length === 8, 'the stock to fill')
    rmSync(join(jobsDir, '.prepared'), { recursive: true })
    assert.equal(launcher.takeFolder(join(jobsDir, 'a')), false)
    await waitFor(() => launcher.takeFolder(join(jobsDir, 'b')), 'a prepared folder again')
    assert.ok(statSync(join(jobsDir, 'b', 'stdin')).isFIFO())
  })

  test('a launcher binary that cannot run is given up at once: its jobs start through the fallback', async () => {
    writeFileSync(join(stateDir, 'not-a-program'), 'plain text, not executable')
    const broken = new Launcher(join(stateDir, 'not-a-program'), createLogger('silent', false), async (o) => {
      fallbackCalls.push(o.command)
      return await shared.start(o)
    })
    launchers.push(broken)
    const { job, files } = await run('echo via fallback', {}, broken)
    assert.equal((exitInfoOfProcess(await job.exited)).exitCode, 0)
    assert.equal(readFileSync(files.stdout, 'utf8'), 'via fallback\n')
    assert.deepEqual(fallbackCalls.splice(0), ['echo via fallback'])
  })

  test('a launch file a dead launcher left empty (it died before forking) lets the job start', async () => {
    const files = newFiles()
    writeFileSync(join(files.dir, 'launch'), '')
    const job = await shared.start(options(files, 'echo started'))
    assert.equal((exitInfoOfProcess(await job.exited)).exitCode, 0)
    assert.equal(readFileSync(files.stdout, 'utf8'), 'started\n')
    assert.deepEqual(fallbackCalls, [])
  })
})

test('a restarted launcher does not keep a process alive once the jobs it inherited by polling have ended', { skip: !built && 'the launcher is not built (npm run build:launcher)' }, async () => {
  const stateDir = realpathSync(mkdtempSync(join(tmpdir(), 'launcher-exit-')))
  const fixture = new URL('../../fixtures/launcher-without-close.ts', import.meta.url).pathname
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, stateDir], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString() })
  try {
    // Why a deadline and not a duration: the only question is whether it exits by itself at all.
    const code = await new Promise<number | null>((resolve) => {
      const deadline = setTimeout(() => { child.kill('SIGKILL'); resolve(null) }, 60_000)
      child.on('exit', (exitCode) => { clearTimeout(deadline); resolve(exitCode) })
    })
    assert.equal(out, 'done\n', err)
    assert.equal(code, 0, 'the process ended by itself')
  } finally {
    killMatching(stateDir)
    rmSync(stateDir, { recursive: true, force: true })
  }
})
