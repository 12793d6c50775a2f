import assert from 'node:assert/strict'
import { test } from 'node:test'
import { resolveCredentials } from '../../../src/commands/credentials.js'
import { commandLine, parseEnv } from '../../../src/commands/exec.js'
import { localWindowSize, TerminalModes, type TtyExecIo } from '../../../src/commands/exec-tty.js'
import { exitCodeOf } from '../../../src/commands/follow.js'
import { formatJobTable } from '../../../src/commands/jobs.js'

test('one argument is a command line as typed; several are quoted word by word', () => {
  assert.equal(commandLine(['make && ./run | tee log']), 'make && ./run | tee log')
  assert.equal(commandLine(['ls', '-la', 'my dir', "it's", '$HOME']), "ls -la 'my dir' 'it'\\''s' '$HOME'")
})

test('--env takes NAME=VALUE (the value may hold =) and refuses anything else', () => {
  assert.deepEqual(parseEnv(['A=1', 'B=x=y', 'C=']), { A: '1', B: 'x=y', C: '' })
  assert.throws(() => parseEnv(['=1']), /NAME=VALUE/)
  assert.throws(() => parseEnv(['nope']), /NAME=VALUE/)
})

test('the exit code mirrors the job: its code, 128+n for signals, else 1', () => {
  assert.equal(exitCodeOf({ status: 'completed', exitCode: 0, signal: null, error: null }), 0)
  assert.equal(exitCodeOf({ status: 'failed', exitCode: 137, signal: 'SIGKILL', error: null }), 137)
  assert.equal(exitCodeOf({ status: 'failed', exitCode: null, signal: null, error: 'cannot start' }), 1)
  assert.equal(exitCodeOf(undefined), 1)
})

test('credentials: flags, then environment, then the local key file only for a local URL', () => {
  const env = { AGENT_RUNTIME_URL: 'http://remote.example:8585' }
  assert.deepEqual(resolveCredentials({ url: 'http://127.0.0.1:1', key: 'k' }, env, '/nonexistent'), { url: 'http://127.0.0.1:1', apiKey: 'k', urlSource: '--url', keySource: '--key' })
  assert.deepEqual(resolveCredentials({}, env, '/nonexistent'), { url: 'http://remote.example:8585', apiKey: undefined, urlSource: 'AGENT_RUNTIME_URL', keySource: undefined })
  assert.deepEqual(resolveCredentials({}, { AGENT_RUNTIME_API_KEY: 'from-env' }, '/nonexistent'), { url: 'http://127.0.0.1:8585', apiKey: 'from-env', urlSource: 'the default', keySource: 'AGENT_RUNTIME_API_KEY' })
  assert.throws(() => resolveCredentials({ url: 'not a url' }, {}, '/'), /not a URL/)
})

test('the jobs table has a header and one line per job, cut to the width', () => {
  const job = { jobId: 'abcdef123456', status: 'completed', exitCode: 0, submittedAt: Date.now() / 1000 - 5, durationMs: 1500, command: 'echo hi\necho there' }
  const table = formatJobTable([job as never], 100)
  const lines = table.trimEnd().split('\n')
  assert.match(lines[0] as string, /^JOB\s+STATUS\s+EXIT\s+SUBMITTED\s+TIME\s+COMMAND$/)
  assert.match(lines[1] as string, /^abcdef123456\s+completed\s+0\s+5s ago\s+1\.5s\s+echo hi echo there$/)
  assert.ok(formatJobTable([{ ...job, command: 'x'.repeat(200) } as never], 60).split('\n').every((l) => l.length <= 60))
})

test('exec -t asks for the local window size within the server\'s bounds, else 80 × 24', () => {
  const io = (stdout: Record<string, unknown>): TtyExecIo => ({ stdin: process.stdin, stdout: stdout as unknown as TtyExecIo['stdout'], stderr: process.stderr })
  assert.deepEqual(localWindowSize(io({ isTTY: true, columns: 132, rows: 43 })), { cols: 132, rows: 43 })
  assert.deepEqual(localWindowSize(io({ isTTY: true, columns: 900, rows: 1 })), { cols: 500, rows: 2 })
  assert.deepEqual(localWindowSize(io({ isTTY: false, columns: 132, rows: 43 })), { cols: 80, rows: 24 })
})

test('after exec -t, the alternate screen is left only when the program entered it and stayed', () => {
  const modes = new TerminalModes()
  assert.ok(!modes.restore().includes('\u001b[?1049l'))
  assert.ok(modes.restore().includes('\u001b[?25h'), 'the cursor is always shown again')
  modes.see(Buffer.from('\u001b[?1049hvi screen'))
  assert.ok(modes.restore().startsWith('\u001b[?1049l'))
  modes.see(Buffer.from('bye\u001b[?1049l$ '))
  assert.ok(!modes.restore().includes('\u001b[?1049l'))
})
