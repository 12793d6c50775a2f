import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import * as pty from 'node-pty'
import { RESTORE_TERMINAL } from '../../src/commands/attach.js'
import { call, CLI_PATH, spawnServer, type ServerProcess } from '../helpers/cli-process.js'
import { waitFor } from '../helpers/wait.js'

/** Runs `agent-server attach ARGS` with `input` written to its (piped) stdin. */
async function attach (server: ServerProcess, args: string[], input: string): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI_PATH, 'attach', '--url', server.url, ...args], {
    env: { ...process.env, AGENT_RUNTIME_API_KEY: server.key },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  child.stdin.write(input)
  const [code] = await once(child, 'exit') as [number | null]
  return { code, stdout, stderr }
}

describe('agent-server attach', () => {
  let server: ServerProcess
  let stateDir: string
  before(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'cli-attach-'))
    server = await spawnServer(stateDir, ['--log-level', 'warn'])
  })
  after(async () => {
    await server.stop()
    rmSync(stateDir, { recursive: true, force: true })
  })

  test('runs what it reads in a shell on the server and exits with the shell\'s exit code', async () => {
    const result = await attach(server, ['--shell', '/bin/sh', '--workdir', '/tmp'], 'echo "attached-in-$(pwd)"\rexit 5\r')
    assert.equal(result.code, 5, result.stderr)
    assert.match(result.stdout, /attached-in-\/tmp/)
  })

  test('--session reattaches to a running terminal and gets its screen', async () => {
    const first = spawn(process.execPath, ['--import', 'tsx', CLI_PATH, 'attach', '--url', server.url, '--shell', '/bin/sh'], {
      env: { ...process.env, AGENT_RUNTIME_API_KEY: server.key },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    first.stdin.write('echo "first-""client"\r')
    const id = await waitFor(async () => {
      const { body } = await call(server, 'GET', '/terminals')
      return body.terminals.find((t: any) => t.clients === 1 && t.lastInputAt)?.id as string | undefined
    }, 'the terminal to exist')
    first.kill('SIGKILL')
    await once(first, 'exit')
    const again = await attach(server, ['--session', id], 'exit 3\r')
    assert.equal(again.code, 3, again.stderr)
    assert.match(again.stdout, /first-client/)
  })

  test('an unknown session and a wrong key are one clear line and exit 1', async () => {
    const unknown = await attach(server, ['--session', 'nope'], '')
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /terminal session not found/)
    const child = spawn(process.execPath, ['--import', 'tsx', CLI_PATH, 'attach', '--url', server.url, '--key', 'wrong'], { stdio: ['pipe', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const [code] = await once(child, 'exit')
    assert.equal(code, 1)
    assert.match(stderr, /refused the API key/)
  })

  test('attach with stdin at EOF (</dev/null) ends its shell and exits, leaving no terminal behind', async () => {
    const before = new Set(((await call(server, 'GET', '/terminals')).body.terminals as Array<{ id: string }>).map((t) => t.id))
    const child = spawn(process.execPath, ['--import', 'tsx', CLI_PATH, 'attach', '--url', server.url, '--shell', '/bin/sh'], {
      env: { ...process.env, AGENT_RUNTIME_API_KEY: server.key },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const [code] = await once(child, 'exit')
    assert.equal(code, 0, stderr)
    await waitFor(async () => {
      const { body } = await call(server, 'GET', '/terminals')
      return (body.terminals as Array<{ id: string }>).every((t) => before.has(t.id))
    }, 'the terminal to end')
  })

  test('Ctrl-] under a real terminal restores the modes the remote program set and prints the note below', async () => {
    const term = pty.spawn(process.execPath, ['--import', 'tsx', CLI_PATH, 'attach', '--url', server.url, '--shell', '/bin/sh'], {
      cols: 80, rows: 24, env: { ...process.env, AGENT_RUNTIME_API_KEY: server.key } as Record<string, string>,
    })
    let output = ''
    term.onData((data) => { output += data })
    const exited = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)))
    try {
      await waitFor(() => output.includes('Ctrl-] detaches'), 'the attach note')
      // Alternate screen, hidden cursor, mouse reporting: what vi or htop set.
      term.write("printf '\\033[?1049h\\033[?25l\\033[?1000h%s\\n' RE''ADY\r")
      await waitFor(() => output.includes('READY'), 'the remote program to set its modes')
      const modesSetAt = output.indexOf('READY')
      term.write('\u001d')
      assert.equal(await exited, 0, output)
      const after = output.slice(modesSetAt)
      assert.ok(after.includes(RESTORE_TERMINAL), JSON.stringify(after))
      assert.ok(after.indexOf('[detached;') > after.indexOf(RESTORE_TERMINAL), JSON.stringify(after))
      const id = /attach --session ([\w-]+)/.exec(after)?.[1]
      assert.ok(id, after)
      await call(server, 'DELETE', `/terminals/${id}`)
    } finally {
      term.kill()
    }
  })
})
