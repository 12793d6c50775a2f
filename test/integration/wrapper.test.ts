import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { freePort } from '../helpers/net.js'
import { killMatching, processesMatching } from '../helpers/processes.js'
import { waitFor } from '../helpers/wait.js'

const RUNNER = fileURLToPath(new URL('../fixtures/run-wrapper.ts', import.meta.url))
const WRAPPER_MODULE = fileURLToPath(new URL('../../src/update/wrapper.ts', import.meta.url))
const APP_MODULE = fileURLToPath(new URL('../../src/app.ts', import.meta.url))

/** One JSON log line of the wrapper. */
interface LogLine { time: number, msg: string, event?: string, [field: string]: any }

/** A wrapper running as its own process around the fake server. */
interface WrapperRun {
  wrapper: ChildProcess
  dir: string
  output: () => string
  events: (event: string) => LogLine[]
  calls: () => string[]
  /** The fake server's /health answer, or undefined while nothing answers 200. */
  health: () => Promise<{ version: string, pid: number } | undefined>
  /** Asks the running fake server to exit with `code`. */
  exitChild: (code: number) => Promise<void>
  /** Waits for the wrapper to exit and returns its exit code. */
  exited: (timeoutMs?: number) => Promise<number | null>
}

const runs: WrapperRun[] = []

afterEach(async () => {
  for (const run of runs.splice(0)) {
    if (run.wrapper.exitCode === null && run.wrapper.signalCode === null) {
      run.wrapper.kill('SIGKILL')
      await once(run.wrapper, 'exit')
    }
    const leftovers = killMatching(run.dir)
    rmSync(run.dir, { recursive: true, force: true })
    assert.deepEqual(leftovers, [], `processes left behind: ${leftovers.join(', ')}`)
  }
})

/** The Fastify files loaded by importing `module` in a fresh process. */
async function fastifyFilesLoadedBy (module: string): Promise<string[]> {
  // Why: Fastify is CommonJS, so every file of it that gets loaded shows up in require.cache.
  const script = [
    "import { createRequire } from 'node:module'",
    `await import(${JSON.stringify(module)})`,
    "const loaded = Object.keys(createRequire(process.cwd() + '/').cache).filter((path) => /node_modules[\\\\/]@?fastify/.test(path))",
    'process.stdout.write(JSON.stringify(loaded))',
  ].join('\n')
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  let stdout = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  const [code] = await once(child, 'exit') as [number | null]
  assert.equal(code, 0)
  return JSON.parse(stdout) as string[]
}

/** Starts the wrapper with the fake server at `version`; the update command installs `nextVersion`. */
async function startWrapper (version: string, nextVersion = '2.0.0', env: NodeJS.ProcessEnv = {}): Promise<WrapperRun> {
  const dir = mkdtempSync(join(tmpdir(), 'agent-runtime-wrapper-'))
  const versionFile = join(dir, 'version')
  const callsFile = join(dir, 'calls')
  writeFileSync(versionFile, `${version}\n`)
  const port = await freePort()
  const wrapper = spawn(process.execPath, ['--import', 'tsx', RUNNER], {
    env: {
      ...process.env,
      FAKE_PORT: String(port),
      FAKE_STATE_DIR: dir,
      FAKE_VERSION_FILE: versionFile,
      FAKE_NEXT_VERSION: nextVersion,
      FAKE_CALLS_FILE: callsFile,
      WRAPPER_HEALTH_DEADLINE_MS: '3000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  wrapper.stdout?.on('data', (d: Buffer) => { output += d.toString() })
  wrapper.stderr?.on('data', (d: Buffer) => { output += d.toString() })
  const exit = once(wrapper, 'exit') as Promise<[number | null]>
  const run: WrapperRun = {
    wrapper,
    dir,
    output: () => output,
    events: (event) => output.split('\n').flatMap((line) => {
      if (!line.startsWith('{')) return []
      const parsed = JSON.parse(line) as LogLine
      return parsed.event === event ? [parsed] : []
    }),
    calls: () => existsSync(callsFile) ? readFileSync(callsFile, 'utf8').trim().split('\n') : [],
    health: async () => {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/health`)
        return response.status === 200 ? await response.json() as { version: string, pid: number } : undefined
      } catch {
        return undefined
      }
    },
    exitChild: async (code) => {
      const response = await fetch(`http://127.0.0.1:${port}/exit?code=${code}`, { method: 'POST' })
      assert.equal(response.status, 200)
      await response.text()
    },
    exited: async (timeoutMs = 15_000) => {
      const timeout = AbortSignal.timeout(timeoutMs)
      const [code] = await Promise.race([exit, once(timeout, 'abort').then(() => { throw new Error(`wrapper still running after ${timeoutMs} ms:\n${output}`) })])
      return code
    },
  }
  runs.push(run)
  return run
}

/** Waits until the fake server answers /health with `version` and returns its pid. */
async function healthyVersion (run: WrapperRun, version: string, timeoutMs = 15_000): Promise<number> {
  const health = await waitFor(async () => {
    const answer = await run.health()
    return answer?.version === version ? answer : undefined
  }, `version ${version} to answer /health`, timeoutMs).catch((err: Error) => { throw new Error(`${err.message}\n${run.output()}`) })
  return health.pid
}

/** Stops the wrapper with SIGTERM and checks it exits 0 leaving no fake server behind. */
async function stopWrapper (run: WrapperRun): Promise<void> {
  run.wrapper.kill('SIGTERM')
  assert.equal(await run.exited(), 0, run.output())
  assert.deepEqual(processesMatching(run.dir), [])
}

describe('agent-server --wrapper loop', () => {
  test('exit 42 runs the update command and restarts the server with the new version', async () => {
    const run = await startWrapper('1.0.0', '2.0.0')
    const oldPid = await healthyVersion(run, '1.0.0')
    await run.exitChild(42)
    const newPid = await healthyVersion(run, '2.0.0')
    assert.notEqual(newPid, oldPid)
    assert.deepEqual(run.calls(), ['update 1.0.0 2.0.0'])
    assert.equal(run.events('version')[0]?.version, '1.0.0')
    assert.equal(run.events('update').length, 1)
    const output = run.events('update-output').map((line) => [line.stream, line.line])
    assert.deepEqual(output.sort(), [['stderr', 'a warning on stderr'], ['stdout', 'installing 2.0.0 over 1.0.0']])
    await waitFor(() => run.events('healthy').length === 1, 'the wrapper to see the new version healthy')
    assert.equal(run.events('rollback').length, 0)
    await stopWrapper(run)
  })

  test('a new version that exits at start is rolled back and the previous version runs again', async () => {
    const run = await startWrapper('1.0.0', 'broken')
    await healthyVersion(run, '1.0.0')
    await run.exitChild(42)
    await waitFor(() => run.calls().length === 2, 'the rollback command to run')
    assert.deepEqual(run.calls(), ['update 1.0.0 broken', 'rollback 1.0.0'])
    await healthyVersion(run, '1.0.0')
    assert.match(run.output(), /broken release, exiting 1/)
    assert.equal(run.events('rollback')[0]?.version, '1.0.0')
    assert.equal(run.events('rollback-output')[0]?.line, 'reinstalling 1.0.0')
    assert.equal(run.events('restart').filter((line) => line.reason === 'crash').length, 0)
    await stopWrapper(run)
  })

  test('a new version that never answers /health 200 within the deadline is stopped and rolled back', async () => {
    const run = await startWrapper('1.0.0', 'unhealthy', { WRAPPER_HEALTH_DEADLINE_MS: '1500' })
    await healthyVersion(run, '1.0.0')
    await run.exitChild(42)
    await waitFor(() => run.calls().length === 2, 'the rollback command to run', 15_000)
    assert.deepEqual(run.calls(), ['update 1.0.0 unhealthy', 'rollback 1.0.0'])
    await healthyVersion(run, '1.0.0')
    assert.match(run.output(), /unhealthy: listening on/)
    const [unhealthy] = run.events('unhealthy')
    assert.equal(unhealthy?.deadlineMs, 1500)
    await stopWrapper(run)
  })

  test('SIGTERM while an updated server is still on probation stops it without a rollback', async () => {
    const run = await startWrapper('1.0.0', 'unhealthy', { WRAPPER_HEALTH_DEADLINE_MS: '60000' })
    await healthyVersion(run, '1.0.0')
    await run.exitChild(42)
    await waitFor(() => /unhealthy: listening on/.test(run.output()), 'the updated server to listen')
    await stopWrapper(run)
    assert.deepEqual(run.calls(), ['update 1.0.0 unhealthy'])
    assert.equal(run.events('unhealthy').length, 0)
    assert.equal(run.events('child-exit').at(-1)?.kind, 'stopped')
  })

  test('a server that crashes or is killed by a signal is restarted with the same version', async () => {
    const run = await startWrapper('1.0.0')
    const first = await healthyVersion(run, '1.0.0')
    await run.exitChild(1)
    const second = await waitFor(async () => {
      const pid = await healthyVersion(run, '1.0.0')
      return pid !== first ? pid : undefined
    }, 'a restarted server')
    process.kill(second, 'SIGKILL')
    await waitFor(async () => {
      const pid = await healthyVersion(run, '1.0.0')
      return pid !== second ? pid : undefined
    }, 'a second restarted server')
    const exits = run.events('child-exit').map((line) => [line.code, line.signal, line.kind])
    assert.deepEqual(exits, [[1, null, 'crash'], [null, 'SIGKILL', 'crash']])
    assert.deepEqual(run.calls(), [])
    await stopWrapper(run)
  })

  test('in a crash loop the restart delays grow up to the maximum, and SIGTERM during a delay exits 0', async () => {
    const run = await startWrapper('crash', '2.0.0', { WRAPPER_BACKOFF_INITIAL_MS: '100', WRAPPER_BACKOFF_MAX_MS: '800' })
    await waitFor(() => run.events('restart').length >= 6 && run.events('child-start').length >= 7, 'six restarts', 30_000)
    // Stop while the wrapper waits: the last restart is announced and its child not yet started.
    await waitFor(() => run.events('restart').length === run.events('child-start').length, 'a restart delay', 10_000)
    run.wrapper.kill('SIGTERM')
    assert.equal(await run.exited(), 0, run.output())
    assert.equal(run.events('child-start').length, run.events('restart').length)
    assert.deepEqual(processesMatching(run.dir), [])
    const restarts = run.events('restart').slice(0, 6)
    const starts = run.events('child-start')
    const delays = restarts.map((line) => line.delayMs as number)
    for (const [i, delay] of delays.entries()) {
      assert.equal(restarts[i]?.reason, 'crash')
      // The next start comes no earlier than the announced delay after the restart decision.
      const waited = (starts[i + 1]?.time ?? 0) - (restarts[i]?.time ?? 0)
      assert.ok(waited >= delay - 5, `restart ${i + 1} waited ${waited} ms for a delay of ${delay} ms`)
      if (i > 0) assert.ok(delay >= (delays[i - 1] ?? 0), `delays grow: ${delays.join(', ')}`)
    }
    assert.ok((delays[0] ?? 0) >= 100, `first delay: ${delays.join(', ')}`)
    assert.ok((delays.at(-1) ?? 0) > (delays[0] ?? 0), `delays grow: ${delays.join(', ')}`)
    assert.ok(delays.every((delay) => delay <= 800), `delays stay at most the maximum: ${delays.join(', ')}`)
    assert.equal(delays.at(-1), 800, `delays reach the maximum: ${delays.join(', ')}`)
  })

  test('SIGTERM or SIGINT to the wrapper stops the server and the wrapper exits 0 without a restart', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const run = await startWrapper('1.0.0')
      await healthyVersion(run, '1.0.0')
      run.wrapper.kill(signal)
      assert.equal(await run.exited(), 0, run.output())
      assert.match(run.output(), new RegExp(`stopping on ${signal}`))
      assert.equal(run.events('child-start').length, 1)
      assert.equal(run.events('restart').length, 0)
      assert.equal(run.events('exit')[0]?.code, 0)
      assert.deepEqual(processesMatching(run.dir), [])
    }
  })

  test('a server that ignores the stop signal is killed after the grace and the wrapper exits 0', async () => {
    const run = await startWrapper('stubborn', '2.0.0', { WRAPPER_STOP_GRACE_MS: '500' })
    await healthyVersion(run, 'stubborn')
    run.wrapper.kill('SIGTERM')
    assert.equal(await run.exited(), 0, run.output())
    assert.match(run.output(), /ignoring SIGTERM/)
    assert.equal(run.events('kill').length, 1)
    assert.equal(run.events('child-exit')[0]?.signal, 'SIGKILL')
    assert.deepEqual(processesMatching(run.dir), [])
  })

  test('a clean exit 0 of the server ends the wrapper with 0 and no restart', async () => {
    const run = await startWrapper('1.0.0')
    await healthyVersion(run, '1.0.0')
    await run.exitChild(0)
    assert.equal(await run.exited(), 0, run.output())
    assert.equal(run.events('child-start').length, 1)
    assert.equal(run.events('restart').length, 0)
    assert.deepEqual(run.calls(), [])
  })

  test('the wrapper module loads no Fastify, while the app does', async () => {
    assert.deepEqual(await fastifyFilesLoadedBy(WRAPPER_MODULE), [])
    assert.ok((await fastifyFilesLoadedBy(APP_MODULE)).length > 0, 'the check sees Fastify when it is loaded')
  })

  test('a configuration error (exit 78) ends the wrapper with 78 instead of restarting', async () => {
    const run = await startWrapper('1.0.0')
    await healthyVersion(run, '1.0.0')
    await run.exitChild(78)
    assert.equal(await run.exited(), 78, run.output())
    assert.equal(run.events('child-start').length, 1)
    assert.equal(run.events('restart').length, 0)
  })
})
