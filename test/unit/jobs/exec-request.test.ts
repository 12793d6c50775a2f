import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { Errors, type ErrorCode } from '../../../src/errors.js'
import { DEFAULT_SHELL, DEFAULT_TIMEOUT_SEC, parseExecRequest } from '../../../src/jobs/exec-request.js'

const cwd = mkdtempSync(join(tmpdir(), 'agent-runtime-exec-request-'))
mkdirSync(join(cwd, 'sub'))
writeFileSync(join(cwd, 'a-file'), '')
after(() => rmSync(cwd, { recursive: true, force: true }))

/** Asserts that parsing `body` throws the catalogue error `code` with exactly `message`. */
function rejects (body: unknown, code: ErrorCode, message: string | RegExp): void {
  assert.throws(() => parseExecRequest(body, cwd), (err: unknown) => {
    assert.ok(err instanceof Errors[code], `expected ${code}, got ${String(err)}`)
    const e = err as { code: string, statusCode: number, message: string }
    assert.equal(e.code, code)
    assert.equal(e.statusCode, 400)
    if (typeof message === 'string') assert.equal(e.message, message)
    else assert.match(e.message, message)
    return true
  })
}

const parse = (body: unknown): ReturnType<typeof parseExecRequest> => parseExecRequest(body, cwd)

describe('parseExecRequest', () => {
  test('a minimal body runs the command with /bin/sh in the server cwd with the defaults', () => {
    assert.deepEqual(parse({ command: 'echo hi' }), {
      command: 'echo hi',
      shell: '/bin/sh',
      workdir: cwd,
      env: {},
      timeoutSec: 300,
      idleTimeoutSec: 0,
      stdin: null,
      stdinEof: false,
    })
    assert.equal(DEFAULT_SHELL, '/bin/sh')
    assert.equal(DEFAULT_TIMEOUT_SEC, 300)
  })

  test('every field is taken from the body', () => {
    assert.deepEqual(parse({
      mode: 'shell',
      command: 'cat',
      shell: '/bin/bash',
      workdir: join(cwd, 'sub'),
      env: { A: '1', B: '' },
      timeout: 12.5,
      idleTimeout: 3,
      stdin: 'input',
      stdinEof: true,
    }), {
      command: 'cat',
      shell: '/bin/bash',
      workdir: join(cwd, 'sub'),
      env: { A: '1', B: '' },
      timeoutSec: 12.5,
      idleTimeoutSec: 3,
      stdin: 'input',
      stdinEof: true,
    })
  })

  describe('body', () => {
    test('a body that is not an object is refused', () => {
      rejects([], 'INVALID_REQUEST', 'request body must be a JSON object')
      rejects('echo hi', 'INVALID_REQUEST', 'request body must be a JSON object')
      rejects(42, 'INVALID_REQUEST', 'request body must be a JSON object')
    })

    test('a missing body is treated as empty and asks for a command', () => {
      rejects(undefined, 'INVALID_REQUEST', 'command is required')
      rejects(null, 'INVALID_REQUEST', 'command is required')
    })
  })

  describe('mode (checked first)', () => {
    test('an unknown mode is refused with devpilot\'s message', () => {
      rejects({ mode: 'x', command: 'ls' }, 'UNSUPPORTED_MODE', 'unsupported mode: x')
    })

    test('non-string modes are printed as Python would print them', () => {
      rejects({ mode: null }, 'UNSUPPORTED_MODE', 'unsupported mode: None')
      rejects({ mode: true }, 'UNSUPPORTED_MODE', 'unsupported mode: True')
      rejects({ mode: false }, 'UNSUPPORTED_MODE', 'unsupported mode: False')
      rejects({ mode: 3 }, 'UNSUPPORTED_MODE', 'unsupported mode: 3')
    })

    test('the mode is checked before env and command', () => {
      rejects({ mode: 'x', env: 'a' }, 'UNSUPPORTED_MODE', 'unsupported mode: x')
    })

    test('persistent_shell is parsed with devpilot\'s session fields into a spec carrying the session', () => {
      rejects({ mode: 'persistent_shell', command: 'ls' }, 'INVALID_REQUEST', 'sessionKey is required')
      const spec = parse({ mode: 'persistent_shell', command: 'ls', sessionKey: 'k', shell: 'sh', timeout: 5, idleTimeout: 2 })
      assert.equal(spec.session?.sessionKey, 'k')
      assert.equal(spec.session?.shell, 'sh')
      assert.equal(spec.timeoutSec, 5)
      assert.equal(spec.idleTimeoutSec, 2)
      assert.equal(spec.stdinEof, false)
    })

    test('acp needs no command; its fields get defaults and the command shows the agent', () => {
      const spec = parse({ mode: 'acp', prompt: 'hi', command: 'ignored', stdin: 'ignored' })
      assert.equal(spec.command, '[acp] copilot --acp --stdio')
      assert.equal(spec.stdin, null)
      assert.deepEqual(spec.acp, {
        agent: 'copilot --acp --stdio', prompt: 'hi', sessionId: null, model: null, effort: null, mode: null, permissionPolicy: 'workdir', mcpServers: [],
      })
      const full = parse({ mode: 'acp', agent: 'gemini --acp', acp_session_id: 's1', model: 'm', effort: 'high', acpMode: 'plan', permissionPolicy: 'ask', mcpServers: [{ name: 'fs' }] })
      assert.deepEqual(full.acp, {
        agent: 'gemini --acp', prompt: '', sessionId: 's1', model: 'm', effort: 'high', mode: 'plan', permissionPolicy: 'ask', mcpServers: [{ name: 'fs' }],
      })
    })

    test('acp takes rule policies, capability switches and transcript, and refuses bad ones clearly', () => {
      const spec = parse({
        mode: 'acp', agent: 'claude', permissionPolicy: { autoApprove: ['read'], defaultAction: 'ask' }, capabilities: { fs: false }, transcript: true,
      })
      assert.equal(spec.command, '[acp] claude')
      assert.deepEqual(spec.acp?.permissionPolicy, { autoApprove: ['read'], autoDeny: [], defaultAction: 'ask' })
      assert.deepEqual(spec.acp?.capabilities, { fs: false })
      assert.equal(spec.acp?.transcript, true)
      const plain = parse({ mode: 'acp', transcript: false, capabilities: null })
      assert.equal('transcript' in (plain.acp ?? {}), false)
      assert.equal('capabilities' in (plain.acp ?? {}), false)
      const refusals: Array<[Record<string, unknown>, string]> = [
        [{ permissionPolicy: { autoApprove: 'read' } }, 'permissionPolicy.autoApprove must be an array of tool kinds or tool names'],
        [{ permissionPolicy: { defaultAction: 'yes' } }, 'permissionPolicy.defaultAction must be one of allow, deny, ask'],
        [{ permissionPolicy: 7 }, 'permissionPolicy must be one of deny, read-only, workdir, allow-all, ask'],
        [{ capabilities: [] }, 'capabilities must be an object like {"fs": false, "terminal": false}'],
        [{ capabilities: { network: false } }, 'capabilities has an unknown field "network" (fields: fs, terminal)'],
        [{ capabilities: { fs: 'no' } }, 'capabilities.fs must be a boolean'],
        [{ transcript: 'yes' }, 'transcript must be a boolean'],
      ]
      for (const [body, message] of refusals) assert.throws(() => parse({ mode: 'acp', ...body }), { message })
    })
  })

  describe('env (checked second)', () => {
    const message = 'env must be an object of string key/value pairs'

    test('an env that is not an object of strings is refused with devpilot\'s message', () => {
      rejects({ command: 'ls', env: 'a' }, 'INVALID_REQUEST', message)
      rejects({ command: 'ls', env: { A: 1 } }, 'INVALID_REQUEST', message)
      rejects({ command: 'ls', env: [] }, 'INVALID_REQUEST', message)
      rejects({ command: 'ls', env: { A: null } }, 'INVALID_REQUEST', message)
    })

    test('a null env means no overlay', () => {
      assert.deepEqual(parse({ command: 'ls', env: null }).env, {})
    })

    test('env is checked before the mode availability', () => {
      rejects({ mode: 'acp', env: 'a' }, 'INVALID_REQUEST', message)
      rejects({ mode: 'persistent_shell', env: { A: 1 } }, 'INVALID_REQUEST', message)
    })

    test('env is checked before the command', () => {
      rejects({ env: [] }, 'INVALID_REQUEST', message)
    })
  })

  describe('command', () => {
    test('a missing, null or empty command is refused with devpilot\'s message', () => {
      rejects({}, 'INVALID_REQUEST', 'command is required')
      rejects({ command: null }, 'INVALID_REQUEST', 'command is required')
      rejects({ command: '' }, 'INVALID_REQUEST', 'command is required')
    })

    // Fails with the current src: devpilot tests truthiness, so every falsy JSON value says "command is required".
    test('any falsy command (0, false, [], {}) is refused with devpilot\'s "command is required"', () => {
      for (const command of [0, false, [], {}]) rejects({ command }, 'INVALID_REQUEST', 'command is required')
    })

    test('a command that is not a string is refused', () => {
      for (const command of [5, true, ['ls', '-l'], { run: 'ls' }]) rejects({ command }, 'INVALID_REQUEST', /command/)
    })

    test('a blank but non-empty command is accepted as devpilot did', () => {
      assert.equal(parse({ command: ' ' }).command, ' ')
    })
  })

  describe('workdir', () => {
    test('a missing workdir is refused with WORKDIR_NOT_FOUND naming it', () => {
      rejects({ command: 'ls', workdir: '/no/such/dir' }, 'WORKDIR_NOT_FOUND', 'workdir does not exist or is not a directory: /no/such/dir')
    })

    test('a workdir that is a file is refused', () => {
      rejects({ command: 'ls', workdir: join(cwd, 'a-file') }, 'WORKDIR_NOT_FOUND', /a-file$/)
    })

    test('a relative workdir is resolved against the server cwd', () => {
      assert.equal(parse({ command: 'ls', workdir: 'sub' }).workdir, join(cwd, 'sub'))
      assert.equal(parse({ command: 'ls', workdir: './sub/..' }).workdir, cwd)
    })

    test('an empty or null workdir means the server cwd', () => {
      assert.equal(parse({ command: 'ls', workdir: '' }).workdir, cwd)
      assert.equal(parse({ command: 'ls', workdir: null }).workdir, cwd)
    })

    test('a workdir that is not a string is refused', () => {
      rejects({ command: 'ls', workdir: 7 }, 'INVALID_REQUEST', 'workdir must be a string')
    })
  })

  describe('timeout and idleTimeout', () => {
    test('timeout defaults to 300 seconds', () => {
      assert.equal(parse({ command: 'ls' }).timeoutSec, 300)
    })

    test('a timeout of 0 (no timeout) is accepted', () => {
      assert.equal(parse({ command: 'ls', timeout: 0 }).timeoutSec, 0)
    })

    test('a negative, string or absurdly large timeout is refused', () => {
      for (const timeout of [-1, '10', true, [], 1e12]) {
        rejects({ command: 'ls', timeout }, 'INVALID_REQUEST', /^timeout must be a number of seconds between 0 and \d+$/)
      }
    })

    test('idleTimeout defaults to 0 (off) and takes fractional seconds', () => {
      assert.equal(parse({ command: 'ls' }).idleTimeoutSec, 0)
      assert.equal(parse({ command: 'ls', idleTimeout: 0.5 }).idleTimeoutSec, 0.5)
    })

    test('a negative or string idleTimeout is refused', () => {
      rejects({ command: 'ls', idleTimeout: -5 }, 'INVALID_REQUEST', /^idleTimeout must be a number of seconds/)
      rejects({ command: 'ls', idleTimeout: '5' }, 'INVALID_REQUEST', /^idleTimeout must be a number of seconds/)
    })
  })

  describe('stdin, stdinEof and shell', () => {
    test('stdin must be a string', () => {
      rejects({ command: 'cat', stdin: 5 }, 'INVALID_REQUEST', 'stdin must be a string')
      rejects({ command: 'cat', stdin: ['a'] }, 'INVALID_REQUEST', 'stdin must be a string')
    })

    test('an empty stdin is kept as an empty string', () => {
      assert.equal(parse({ command: 'cat', stdin: '' }).stdin, '')
    })

    test('stdinEof must be a boolean', () => {
      rejects({ command: 'cat', stdinEof: 'true' }, 'INVALID_REQUEST', 'stdinEof must be a boolean')
      rejects({ command: 'cat', stdinEof: 1 }, 'INVALID_REQUEST', 'stdinEof must be a boolean')
    })

    test('the shell defaults to /bin/sh and must be a non-empty string', () => {
      assert.equal(parse({ command: 'ls', shell: null }).shell, '/bin/sh')
      rejects({ command: 'ls', shell: '  ' }, 'INVALID_REQUEST', 'shell must not be empty')
      rejects({ command: 'ls', shell: 1 }, 'INVALID_REQUEST', 'shell must be a string')
    })
  })
})

describe('parseExecRequest: tty', () => {
  test('tty: true gives the job a terminal of cols × rows, 80 × 24 by default; without it cols and rows are ignored', () => {
    assert.deepEqual(parse({ command: 'x', tty: true }).tty, { cols: 80, rows: 24 })
    assert.deepEqual(parse({ command: 'x', tty: true, cols: 10, rows: 200 }).tty, { cols: 10, rows: 200 })
    assert.equal(parse({ command: 'x', tty: false, cols: 100 }).tty, undefined)
    assert.equal('tty' in parse({ command: 'x' }), false)
  })

  test('a tty that is not a boolean, or a size out of bounds, is refused with the allowed values', () => {
    rejects({ command: 'x', tty: 1 }, 'INVALID_REQUEST', 'tty must be a boolean')
    rejects({ command: 'x', tty: true, cols: 9 }, 'INVALID_REQUEST', 'cols must be an integer from 10 to 500')
    rejects({ command: 'x', tty: true, rows: 2.5 }, 'INVALID_REQUEST', 'rows must be an integer from 2 to 200')
  })

  test('tty is refused for ACP jobs and persistent-shell commands', () => {
    rejects({ mode: 'acp', prompt: 'p', tty: true }, 'INVALID_REQUEST', /^tty: true is only for shell jobs, not mode acp/)
    rejects({ mode: 'persistent_shell', sessionKey: 'k', command: 'x', tty: true }, 'INVALID_REQUEST', /^tty: true is only for shell jobs, not mode persistent_shell/)
  })
})
