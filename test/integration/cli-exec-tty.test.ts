import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { after, before, describe, test } from 'node:test'
import * as pty from 'node-pty'
import { call, CLI_PATH, spawnServer, type ServerProcess } from '../helpers/cli-process.js'
import { processesMatching } from '../helpers/processes.js'
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

  interface OnTerminal { output: () => string, write: (data: string) => void, resize: (cols: number, rows: number) => void, exited: Promise<number>, kill: () => void }
  const onTerminal = (file: string, args: string[], size = { cols: 80, rows: 24 }): OnTerminal => {
    const term = pty.spawn(file, args, { ...size, env: { ...process.env, AGENT_RUNTIME_API_KEY: server.key } as Record<string, string> })
    let output = ''
    term.onData((data) => { output += data })
    const exited = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)))
    return { output: () => output, write: (data) => term.write(data), resize: (cols, rows) => term.resize(cols, rows), exited, kill: () => term.kill() }
  }
  const cli = (...args: string[]): string[] => ['--import', 'tsx', CLI_PATH, 'exec', '--url', server.url, ...args]
  const execOnTerminal = (command: string, flags: string[] = [], size?: { cols: number, rows: number }): OnTerminal =>
    onTerminal(process.execPath, cli(...flags, '--', command), size)
  const quote = (arg: string): string => `'${arg.replaceAll("'", "'\\''")}'`

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

  test('exec -t runs the job on a terminal of the local window size', async () => {
    const run = execOnTerminal('test -t 0; echo "stdin-tty=$?"; echo "cols=$(tput cols) lines=$(tput lines)"', ['-t'], { cols: 97, rows: 31 })
    try {
      assert.equal(await run.exited, 0, run.output())
      assert.match(run.output(), /stdin-tty=0/)
      assert.match(run.output(), /cols=97 lines=31/)
    } finally {
      run.kill()
    }
  })

  test('exec -t sends keys as typed, passes the exit code through and leaves the local terminal in its normal mode', async () => {
    const command = 'read line; echo "got [$line]"; printf "\\033[?1049h\\033[?25l"; exit 7'
    const shell = `${quote(process.execPath)} ${cli('-t', '--', command).map(quote).join(' ')}; echo "cli-exit=$?"; stty -a`
    const run = onTerminal('/bin/sh', ['-c', shell])
    try {
      await waitFor(async () => {
        const jobs = (await call(server, 'GET', '/jobs?limit=1')).body as Array<{ command: string, status: string }>
        return jobs[0]?.command === command && jobs[0].status === 'running'
      }, 'the job to run')
      run.write('hello\r')
      assert.equal(await run.exited, 0, run.output())
      assert.match(run.output(), /got \[hello\]/)
      assert.match(run.output(), /cli-exit=7/)
      const after = run.output().slice(run.output().indexOf('cli-exit='))
      assert.match(after, /(^|\s)icanon(\s|;|$)/m, 'canonical mode is back')
      assert.match(after, /(^|\s)echo(\s|;|$)/m, 'echo is back')
      // The program left the alternate screen on and the cursor hidden: exec put both back.
      const restored = run.output().slice(run.output().lastIndexOf('\u001b[?1049h'))
      assert.ok(restored.includes('\u001b[?1049l') && restored.includes('\u001b[?25h'), JSON.stringify(restored))
    } finally {
      run.kill()
    }
  })

  test('exec -t: Ctrl-C goes to the job, which ends with its code, and nothing of it is left', async () => {
    const marker = `1000.${Math.floor(Math.random() * 1e9)}`
    const run = execOnTerminal(`echo ready; sleep ${marker}`, ['-t'])
    try {
      await waitFor(() => run.output().includes('ready'), 'the job to start')
      run.write('\u0003')
      assert.equal(await run.exited, 130, run.output())
      assert.doesNotMatch(run.output(), /Kill job/)
      await waitFor(() => processesMatching(`sleep ${marker}`).length === 0, 'the job\'s sleep to be gone')
    } finally {
      run.kill()
    }
  })

  test('exec -t: a new local window size reaches the job', async () => {
    const run = execOnTerminal('echo ready; while read x; do echo "cols=$(tput cols)"; done', ['-t'])
    try {
      await waitFor(() => run.output().includes('ready'), 'the job to start')
      run.resize(111, 30)
      // Why type repeatedly: the resize and the keys travel in separate requests.
      await waitFor(() => {
        run.write('\r')
        return run.output().includes('cols=111')
      }, 'the job to see the new width', 10_000, 300)
      run.write('\u0004')
      assert.equal(await run.exited, 0, run.output())
    } finally {
      run.kill()
    }
  })

  test('exec -i forwards the keys of a terminal line by line, and Ctrl-D ends the input', async () => {
    const run = execOnTerminal('echo ready; cat; echo "cat-done"', ['-i'])
    try {
      await waitFor(() => run.output().includes('ready'), 'the job to start')
      run.write('first line\r')
      await waitFor(() => run.output().split('first line').length > 2, 'the echo of the job')
      run.write('\u0004')
      assert.equal(await run.exited, 0, run.output())
      assert.match(run.output(), /cat-done/)
    } finally {
      run.kill()
    }
  })
})

const hasTmux = ((): boolean => {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

// `exec -t` and `attach` in a tmux pane, whose state (screen, cursor, modes) tmux reports exactly.
describe('agent-server exec -t and attach in tmux', { skip: hasTmux ? false : 'tmux is not installed' }, () => {
  let server: ServerProcess
  let stateDir: string
  const socket = `agent-runtime-test-${process.pid}`
  const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8' })
  before(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'cli-exec-tmux-'))
    server = await spawnServer(stateDir, ['--log-level', 'warn'])
    tmux('new-session', '-d', '-x', '100', '-y', '30', '-e', `AGENT_RUNTIME_API_KEY=${server.key}`, '/bin/sh')
  })
  after(async () => {
    try { tmux('kill-server') } catch { /* already gone */ }
    await server.stop()
    rmSync(stateDir, { recursive: true, force: true })
  })

  const pane = (format: string): string => tmux('display-message', '-p', format).trim()

  test('a job killed while it had the alternate screen, a hidden cursor and app keys leaves the pane as it was', async () => {
    const marker = `1000.${Math.floor(Math.random() * 1e9)}`
    const job = `printf '\\033[?1049h\\033[?25l\\033[?1h\\033=\\033[?1000h'; echo drawn; sleep ${marker}`
    const line = [process.execPath, '--import', 'tsx', CLI_PATH, 'exec', '-t', '--url', server.url, '--', job].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ')
    tmux('send-keys', '-l', `${line}; echo "cli-exit=$?"`)
    tmux('send-keys', 'Enter')
    await waitFor(() => pane('#{alternate_on} #{cursor_flag} #{keypad_cursor_flag} #{mouse_standard_flag}') === '1 0 1 1', 'the job to set its modes')
    const jobs = (await call(server, 'GET', '/jobs?limit=1')).body as Array<{ jobId: string }>
    await call(server, 'POST', `/jobs/${jobs[0]?.jobId}/kill`, { signal: 'SIGKILL' })
    await waitFor(() => tmux('capture-pane', '-p').includes('cli-exit=137'), 'exec to exit with the job\'s code')
    assert.equal(pane('#{alternate_on} #{cursor_flag} #{keypad_cursor_flag} #{mouse_standard_flag}'), '0 1 0 0')
    assert.equal(processesMatching(`sleep ${marker}`).length, 0)
  })

  test('attach, vi, Ctrl-]: the pane is back in normal mode with the cursor shown, and says how to come back', async () => {
    const line = [process.execPath, '--import', 'tsx', CLI_PATH, 'attach', '--url', server.url, '--shell', '/bin/sh'].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ')
    tmux('send-keys', '-l', `clear; ${line}; echo "attach-exit=$?"`)
    tmux('send-keys', 'Enter')
    await waitFor(async () => (await call(server, 'GET', '/terminals')).body.terminals.length === 1, 'the terminal to open')
    tmux('send-keys', '-l', 'vi')
    tmux('send-keys', 'Enter')
    await waitFor(() => pane('#{alternate_on} #{keypad_cursor_flag}') === '1 1', 'vi to take the screen')
    tmux('send-keys', 'C-]')
    await waitFor(() => tmux('capture-pane', '-p').includes('attach-exit=0'), 'attach to exit')
    assert.equal(pane('#{alternate_on} #{cursor_flag} #{keypad_cursor_flag} #{keypad_flag} #{mouse_any_flag}'), '0 1 0 0 0')
    assert.match(tmux('capture-pane', '-p'), /\[detached; the shell keeps running: agent-server attach --session \S+\]/)
    const { terminals } = (await call(server, 'GET', '/terminals')).body as { terminals: Array<{ id: string }> }
    assert.equal(terminals.length, 1, 'vi keeps running on the server')
    await call(server, 'DELETE', `/terminals/${terminals[0]?.id}`)
  })
})

// `agent-server exec` with its stdin piped or closed, as scripts use it.
describe('agent-server exec with piped stdin', () => {
  let server: ServerProcess
  let stateDir: string
  before(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'cli-exec-pipe-'))
    server = await spawnServer(stateDir, ['--log-level', 'warn'])
  })
  after(async () => {
    await server.stop()
    rmSync(stateDir, { recursive: true, force: true })
  })

  const execPiped = async (args: string[], input: Buffer | null): Promise<{ code: number | null, stdout: Buffer, stderr: string }> => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI_PATH, 'exec', '--url', server.url, ...args], {
      env: { ...process.env, AGENT_RUNTIME_API_KEY: server.key },
      stdio: [input === null ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    })
    const stdout: Buffer[] = []
    let stderr = ''
    child.stdout?.on('data', (d: Buffer) => stdout.push(d))
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
    if (input !== null) child.stdin?.end(input)
    const [code] = await once(child, 'exit') as [number | null]
    return { code, stdout: Buffer.concat(stdout), stderr }
  }

  test('exec -i forwards piped input and closes the job\'s stdin at its end', async () => {
    const run = await execPiped(['-i', '--', 'cat; echo "eof seen"'], Buffer.from('one\ntwo\n'))
    assert.equal(run.code, 0, run.stderr)
    assert.equal(run.stdout.toString(), 'one\ntwo\neof seen\n')
  })

  test('piped bytes that are not UTF-8 reach the job unchanged', async () => {
    const run = await execPiped(['--', 'od -An -tx1 -v'], Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x80, 0x0a]))
    assert.equal(run.code, 0, run.stderr)
    assert.equal(run.stdout.toString().trim().split(/\s+/).join(' '), 'ff fe 00 c3 28 80 0a')
  })

  test('a job that reads stdin ends at once when there is no input to forward', async () => {
    const run = await execPiped(['--', 'read line; echo "read-status-$?"'], null)
    assert.equal(run.code, 0, run.stderr)
    assert.equal(run.stdout.toString(), 'read-status-1\n')
  })

  test('exec --session refuses -t with one clear line', async () => {
    const run = await execPiped(['--session', 's1', '-t', '--', 'true'], null)
    assert.equal(run.code, 78, 'a usage error, like every other wrong combination of flags')
    assert.match(run.stderr, /exec --session takes no -i or -t/)
  })
})
