import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import * as pty from 'node-pty'
import { call, CLI_PATH, spawnServer, type ServerProcess } from '../helpers/cli-process.js'
import { waitFor } from '../helpers/wait.js'

// `agent-server exec` typed at a real terminal (a PTY), as people use it.
describe('agent-server exec on a terminal', () => {
  let server: ServerProcess
  let stateDir: string
  before(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'cli-exec-tty-'))
    server = await spawnServer(stateDir, ['--log-level', 'warn'])
  })
  after(async () => {
    await server.stop()
    rmSync(stateDir, { recursive: true, force: true })
  })

  const execOnTerminal = (command: string): { output: () => string, write: (data: string) => void, exited: Promise<number>, kill: () => void } => {
    const term = pty.spawn(process.execPath, ['--import', 'tsx', CLI_PATH, 'exec', '--url', server.url, '--', command], {
      cols: 80, rows: 24, env: { ...process.env, AGENT_RUNTIME_API_KEY: server.key } as Record<string, string>,
    })
    let output = ''
    term.onData((data) => { output += data })
    const exited = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)))
    return { output: () => output, write: (data) => term.write(data), exited, kill: () => term.kill() }
  }

  test('a job that reads stdin ends at once: the keys of the terminal are not its input', async () => {
    const run = execOnTerminal('read line; echo "read-status-$?"')
    try {
      assert.equal(await run.exited, 0, run.output())
      assert.match(run.output(), /read-status-1/)
    } finally {
      run.kill()
    }
  })

  test('the Ctrl-C question is not drawn over by output that keeps streaming', async () => {
    const run = execOnTerminal('while true; do echo tick; sleep 0.05; done')
    try {
      await waitFor(() => run.output().includes('tick'), 'output to stream')
      run.write('\u0003')
      const jobId = await waitFor(() => /Kill job (\w+) on the server\? \[y\/N\]/.exec(run.output())?.[1], 'the question')
      const asked = run.output()
      const ticksAtQuestion = ((await call(server, 'GET', `/jobs/${jobId}`)).body.stdout as string).length
      // The job goes on writing; none of it may reach the screen while the question waits.
      await waitFor(async () => ((await call(server, 'GET', `/jobs/${jobId}`)).body.stdout as string).length > ticksAtQuestion + 40, 'more output on the server')
      assert.equal(run.output().slice(asked.length).includes('tick'), false, JSON.stringify(run.output().slice(asked.length)))
      run.write('n\r')
      assert.equal(await run.exited, 130, run.output())
      assert.match(run.output(), /detached: job \w+ keeps running/)
      await call(server, 'POST', `/jobs/${jobId}/kill`, {})
    } finally {
      run.kill()
    }
  })
})
