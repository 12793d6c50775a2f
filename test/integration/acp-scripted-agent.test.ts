import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { runAcpSession, type AcpLiveView, type AcpResult, type RunAcpOptions } from '../../src/index.js'
import { agentArgv, assertNoProcesses, marker, SCRIPTED_AGENT } from '../helpers/acp.js'
import { processesMatching } from '../helpers/processes.js'

/** The JSON lines the scripted agent sent back, one per step result. */
const results = (result: AcpResult): any[] => result.outputText.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l))

describe('runAcpSession against the scripted fake agent', { concurrency: true }, () => {
  const top = realpathSync(mkdtempSync(join(tmpdir(), 'acp-scripted-')))
  const workdir = join(top, 'work')
  mkdirSync(join(workdir, 'docs'), { recursive: true })
  writeFileSync(join(workdir, 'docs', 'notes.txt'), 'one\ntwo\nthree\nfour\n')
  writeFileSync(join(top, 'secret.txt'), 'secret')
  symlinkSync(top, join(workdir, 'escape'))
  after(() => rmSync(top, { recursive: true, force: true }))

  const run = async (steps: unknown[], options: RunAcpOptions = {}): Promise<AcpResult> => {
    const m = marker()
    const result = await runAcpSession({ agent: agentArgv(SCRIPTED_AGENT, m), workdir, prompt: JSON.stringify(steps), cancelGraceMs: 1000, ...options })
    await assertNoProcesses(m)
    return result
  }

  test('fs reads honour line and limit; a missing file is -32002; paths outside the workdir, symlink escapes included, are refused', async () => {
    const result = await run([
      { read: { path: join(workdir, 'docs', 'notes.txt') } },
      { read: { path: join(workdir, 'docs', 'notes.txt'), line: 2, limit: 2 } },
      { read: { path: join(workdir, 'docs', 'missing.txt') } },
      { read: { path: join(top, 'secret.txt') } },
      { read: { path: join(workdir, 'escape', 'secret.txt') } },
      { read: { path: join(workdir, 'docs', '..', '..', 'secret.txt') } },
    ])
    assert.equal(result.error, null)
    const [whole, slice, missing, outside, viaLink, dotdot] = results(result)
    assert.deepEqual(whole, { content: 'one\ntwo\nthree\nfour\n' })
    assert.deepEqual(slice, { content: 'two\nthree\n' })
    assert.equal(missing.error.code, -32002)
    for (const refused of [outside, viaLink, dotdot]) {
      assert.equal(refused.error.code, -32602)
      assert.match(refused.error.message, /outside the workdir/)
    }
    const reads = result.events.filter((e) => e.type === 'file_read')
    assert.equal(reads.length, 6)
    assert.match(reads[4]?.data.error as string, /outside the workdir/)
  })

  test('fs writes create parent directories inside the workdir and refuse escapes', async () => {
    const result = await run([
      { write: { path: join(workdir, 'out', 'deep', 'new.txt'), content: 'héllo\n' } },
      { write: { path: join(workdir, 'escape', 'planted.txt'), content: 'x' } },
      { write: { path: '/tmp/../tmp/planted-by-agent.txt', content: 'x' } },
    ])
    const [ok, viaLink, absolute] = results(result)
    assert.deepEqual(ok, {})
    assert.equal(readFileSync(join(workdir, 'out', 'deep', 'new.txt'), 'utf8'), 'héllo\n')
    assert.match(viaLink.error.message, /outside the workdir/)
    assert.match(absolute.error.message, /outside the workdir/)
    assert.throws(() => readFileSync(join(top, 'planted.txt')))
    assert.deepEqual(result.events.filter((e) => e.type === 'file_write').map((e) => e.data.bytes), [7, 1, 1])
  })

  test('terminals: exit codes, signals, merged output, truncation on a character boundary, kill and release', async () => {
    const result = await run([
      { terminal: { create: { command: 'echo out; echo err >&2; exit 7' } } },
      { terminal: { create: { command: 'sh', args: ['-c', 'kill -TERM $$'] } } },
      { terminal: { create: { command: 'printf "aaaa€€€"', outputByteLimit: 5 } } },
      { terminal: { create: { command: 'echo started; exec sleep 30' }, killAfterOutput: 'started' } },
      { terminal: { create: { command: 'pwd', cwd: join(workdir, 'docs') } } },
      { terminal: { create: { command: 'pwd', cwd: join(workdir, 'escape') } } },
      { terminal: { create: { command: 'echo "$GREETING $EXTRA"', env: [{ name: 'EXTRA', value: 'world' }] } } },
    ], { env: { GREETING: 'hello' } })
    assert.equal(result.error, null)
    const [plain, signalled, truncated, killed, cwd, escaped, env] = results(result)
    assert.deepEqual(plain.exit, { exitCode: 7, signal: null })
    assert.equal(plain.output.output, 'out\nerr\n')
    assert.deepEqual(plain.output.exitStatus, { exitCode: 7, signal: null })
    assert.deepEqual(plain.release, {})
    assert.equal(plain.afterRelease.error.code, -32602, 'a released terminal id is no longer valid')
    assert.deepEqual(signalled.exit, { exitCode: null, signal: 'SIGTERM' })
    assert.deepEqual(truncated.output, { output: '€', truncated: true, exitStatus: { exitCode: 0, signal: null } })
    assert.deepEqual(killed.kill, {})
    assert.equal(killed.exit.signal, 'SIGTERM')
    assert.equal(killed.output.output, 'started\n', 'a killed terminal stays readable')
    assert.equal(cwd.output.output, join(workdir, 'docs') + '\n')
    assert.match(escaped.error.message, /cwd outside the workdir/)
    assert.equal(env.output.output, 'hello world\n')
    const runs = result.events.filter((e) => e.type === 'terminal_run')
    assert.equal(runs.length, 7)
    assert.deepEqual(runs[1]?.data.args, ['-c', 'kill -TERM $$'])
  })

  test('a long-running terminal the agent never releases is killed when the turn ends', async () => {
    const m = marker()
    const result = await run([
      { terminal: { create: { command: `sleep ${m}` }, wait: false, release: false } },
    ])
    assert.equal(result.error, null)
    assert.equal(results(result)[0].output.exitStatus, undefined, 'still running while the turn was on')
    assert.deepEqual(processesMatching(`sleep ${m}`), [])
    const exit = result.events.find((e) => e.type === 'terminal_exit')
    assert.equal(exit?.data.signal, 'SIGTERM')
  })

  test('session/load replays history as replay events, not as new output; loading an unknown id fails clearly', async () => {
    const state = join(top, 'agent-state')
    const env = { FAKE_ACP_STATE: state }
    const first = await run([{ say: 'first answer' }, { tool: { toolCallId: 't1', title: 'Read', kind: 'read', status: 'completed' } }], { env })
    assert.equal(first.outputText, 'first answer')
    const second = await run([{ say: 'second answer' }], { env, sessionId: first.sessionId })
    assert.equal(second.error, null)
    assert.equal(second.sessionId, first.sessionId)
    assert.equal(second.outputText, 'second answer')
    assert.deepEqual(second.toolCalls, [])
    const replay = second.events.filter((e) => e.type === 'replay').map((e) => [e.data.sessionUpdate, (e.data.content as { text: string }).text])
    assert.deepEqual(replay, [['user_message_chunk', JSON.stringify([{ say: 'first answer' }, { tool: { toolCallId: 't1', title: 'Read', kind: 'read', status: 'completed' } }])], ['agent_message_chunk', 'first answer']])
    const unknown = await run([{ say: 'x' }], { env, sessionId: 'no-such-session' })
    assert.equal(unknown.stopReason, 'error')
    assert.match(unknown.error ?? '', /session\/load failed: .*\(code -32002\)/)
  })

  test('loading a session from an agent that cannot load is a clear error', async () => {
    const result = await run([{ say: 'x' }], { sessionId: 'abc' })
    assert.equal(result.stopReason, 'error')
    assert.match(result.error ?? '', /cannot load sessions/)
  })

  test('model, effort and mode are set through config options, and checked against what the agent offers', async () => {
    const env = { FAKE_ACP_CONFIG: 'options' }
    const result = await run([{ settings: true }], { env, model: 'smart', effort: 'high', mode: 'ask' })
    assert.equal(result.error, null)
    assert.deepEqual(results(result), [{ model: 'smart', effort: 'high', mode: 'ask' }])
    assert.deepEqual(result.events.filter((e) => e.type === 'setting').map((e) => e.data.configId), ['model', 'reasoning_effort'])
    assert.ok(result.events.some((e) => e.type === 'config_option_update'))
  })

  test('a model or effort the agent refuses or does not advertise is a warning event and the turn still runs', async () => {
    const refused = await run([{ settings: true }], { env: { FAKE_ACP_CONFIG: 'options' }, model: 'huge', effort: 'high' })
    assert.equal(refused.error, null)
    assert.equal(refused.stopReason, 'end_turn')
    assert.deepEqual(results(refused), [{ model: 'fast', effort: 'high', mode: 'ask' }])
    const warnings = refused.events.filter((e) => e.type === 'warning').map((e) => e.data)
    assert.equal(warnings.length, 1)
    assert.equal(warnings[0]?.setting, 'model')
    assert.match(warnings[0]?.message as string, /^the agent did not take model "huge" \(session\/set_config_option failed: .*unknown value huge.*\(code -32602\); it offers: fast, smart\); going on with its current model$/)
    assert.deepEqual(refused.events.filter((e) => e.type === 'setting').map((e) => e.data.setting), ['effort'])

    const absent = await run([{ settings: true }], { env: { FAKE_ACP_CONFIG: 'legacy' }, effort: 'high' })
    assert.equal(absent.error, null)
    assert.equal(absent.stopReason, 'end_turn')
    const warning = absent.events.find((e) => e.type === 'warning')?.data
    assert.equal(warning?.method, 'session/set_config_option')
    assert.match(warning?.message as string, /did not take effort "high" \(.*\(code -32601\); it advertises no choice\)/)
  })

  test('a mode the agent does not offer still fails the job before the prompt', async () => {
    const bad = await run([{ settings: true }], { env: { FAKE_ACP_CONFIG: 'options' }, mode: 'yolo' })
    assert.equal(bad.stopReason, 'error')
    assert.match(bad.error ?? '', /does not offer mode "yolo" \(it offers: ask, code\)/)
    assert.equal(bad.outputText, '')
  })

  test('without config options, the legacy session/set_model and session/set_mode are used', async () => {
    const result = await run([{ settings: true }], { env: { FAKE_ACP_CONFIG: 'legacy' }, model: 'smart', mode: 'code' })
    assert.equal(result.error, null)
    assert.deepEqual(results(result), [{ model: 'smart', effort: 'low', mode: 'code' }])
    assert.deepEqual(result.events.filter((e) => e.type === 'setting').map((e) => e.data.method), ['session/set_model', 'session/set_mode'])
  })

  test('authentication required: a clear error without credentials, authenticate and retry with them', async () => {
    const denied = await run([{ say: 'x' }], { env: { FAKE_ACP_AUTH: '1' } })
    assert.equal(denied.stopReason, 'error')
    assert.match(denied.error ?? '', /requires authentication .*methods: fake-api-key/)
    const allowed = await run([{ say: 'in' }], { env: { FAKE_ACP_AUTH: '1', FAKE_API_KEY: 'dummy' } })
    assert.equal(allowed.error, null)
    assert.equal(allowed.outputText, 'in')
    assert.deepEqual(allowed.events.find((e) => e.type === 'authenticate')?.data, { methodId: 'fake-api-key' })
  })

  test('concurrent permission requests are each answered per policy with the right option', async () => {
    const result = await run([{
      permission: [
        { toolCallId: 'a', title: 'Read', kind: 'read', locations: [{ path: join(workdir, 'docs', 'notes.txt') }] },
        { toolCallId: 'b', title: 'Edit inside', kind: 'edit', rawInput: { path: 'docs/notes.txt' } },
        { toolCallId: 'c', title: 'Edit via link', kind: 'edit', rawInput: { path: 'escape/secret.txt' } },
        { toolCallId: 'd', title: 'Run', kind: 'execute', rawInput: { command: 'rm -rf /', cwd: workdir } },
      ],
    }])
    assert.deepEqual(results(result), [[
      { outcome: 'selected', optionId: 'yes' },
      { outcome: 'selected', optionId: 'yes' },
      { outcome: 'selected', optionId: 'no' },
      { outcome: 'selected', optionId: 'no' },
    ]])
    assert.deepEqual(result.toolCalls.map((c) => c.toolCallId), ['a', 'b', 'c', 'd'])
  })

  test('under workdir and read-only, an agent asking to read /etc/passwd, ~/.ssh/id_rsa or through a link out of the workdir is refused', async () => {
    const asks = [
      { toolCallId: 'p', title: 'Read passwd', kind: 'read', locations: [{ path: '/etc/passwd' }] },
      { toolCallId: 'k', title: 'Read key', kind: 'read', rawInput: { file_path: '~/.ssh/id_rsa' } },
      { toolCallId: 'l', title: 'Read via link', kind: 'read', rawInput: { path: 'escape/secret.txt' } },
      { toolCallId: 's', title: 'Search home', kind: 'search', rawInput: { pattern: 'key', path: '/root' } },
      { toolCallId: 'i', title: 'Read inside', kind: 'read', rawInput: { path: 'docs/notes.txt' } },
    ]
    for (const permissionPolicy of ['workdir', 'read-only'] as const) {
      const result = await run([{ permission: asks }], { permissionPolicy })
      assert.deepEqual(results(result)[0].map((o: { optionId: string }) => o.optionId), ['no', 'no', 'no', 'no', 'yes'], permissionPolicy)
      const reasons = result.events.filter((e) => e.type === 'permission' && e.data.decision === 'reject').map((e) => e.data.reason)
      assert.deepEqual(reasons.sort(), [
        'path outside the workdir: escape/secret.txt',
        'path outside the workdir: /etc/passwd',
        'path outside the workdir: /root',
        'path outside the workdir: ~/.ssh/id_rsa',
      ].sort())
    }
    const open = await run([{ permission: asks }], { permissionPolicy: 'allow-all' })
    assert.deepEqual(results(open)[0].map((o: { optionId: string }) => o.optionId), ['yes', 'yes', 'yes', 'yes', 'yes'])
  })

  test('policy ask: each request is surfaced, answered by the handler, and a missing answer is a rejection at the deadline', async () => {
    const asked: string[] = []
    const result = await run([{
      permission: [
        { toolCallId: 'a', title: 'First', kind: 'edit' },
        { toolCallId: 'b', title: 'Second', kind: 'edit' },
        { toolCallId: 'c', title: 'Third', kind: 'edit' },
      ],
    }], {
      permissionPolicy: 'ask',
      permissionTimeoutMs: 300,
      onPermissionRequest: async (request) => {
        asked.push(request.requestId)
        if (request.toolCall.toolCallId === 'a') return 'yes-always'
        if (request.toolCall.toolCallId === 'b') return null
        return await new Promise<string>(() => {})
      },
    })
    assert.deepEqual(asked.sort(), ['perm-1', 'perm-2', 'perm-3'])
    assert.deepEqual(results(result), [[
      { outcome: 'selected', optionId: 'yes-always' },
      { outcome: 'selected', optionId: 'no' },
      { outcome: 'selected', optionId: 'no' },
    ]])
    const reasons = result.events.filter((e) => e.type === 'permission').map((e) => e.data.reason)
    assert.ok(reasons.includes('no answer within 0.3 s'), String(reasons))
    assert.equal(result.events.filter((e) => e.type === 'permission_request').length, 3)
  })

  test('cancel while a permission request waits: it is answered cancelled and the turn ends cancelled', async () => {
    const abort = new AbortController()
    const result = await run([{ permission: { toolCallId: 'a', title: 'Edit', kind: 'edit' } }, { sleep: 60_000 }], {
      permissionPolicy: 'ask',
      signal: abort.signal,
      onPermissionRequest: async () => { abort.abort(); return await new Promise<string>(() => {}) },
    })
    assert.equal(result.stopReason, 'cancelled')
    assert.deepEqual(results(result), [[{ outcome: 'cancelled' }]])
  })

  test('the idle timeout fires when the agent goes quiet, but not while updates keep coming', async () => {
    // Why 5 s: the idle clock starts when the agent is spawned, and a loaded CI machine once took
    // over 2 s to start the scripted agent, so its first update came after a 2 s idle limit.
    const quiet = await run([{ say: 'a' }, { sleep: 60_000 }], { idleTimeoutMs: 5000 })
    assert.equal(quiet.stopReason, 'timeout')
    assert.equal(quiet.timeout, 'idle')
    assert.equal(quiet.error, 'no update from the agent for 5 s')
    assert.equal(quiet.outputText, 'a')
    // 28 updates 250 ms apart: 7 s in all, longer than the idle limit, so only updates resetting it let the turn end.
    const busy = await run(Array.from({ length: 28 }, (_, i) => [{ say: String.fromCharCode(97 + i) }, { sleep: 250 }]).flat(), { idleTimeoutMs: 5000 })
    assert.equal(busy.stopReason, 'end_turn')
    assert.equal(busy.outputText, 'abcdefghijklmnopqrstuvwxyz{|')
  })

  test('timeout, idle timeout, permission answer timeout and cancel grace above 2^31-1 ms do not end the run at once', async () => {
    const beyond = 2 ** 31 + 1000
    const result = await run([{ say: 'a' }, { permission: { toolCallId: 'e', title: 'Edit', kind: 'edit' } }, { say: 'b' }], {
      timeoutMs: beyond,
      idleTimeoutMs: beyond,
      permissionPolicy: 'ask',
      permissionTimeoutMs: beyond,
      // Why a delay: a timer that overflowed fires after 1 ms and would answer first.
      onPermissionRequest: async () => await new Promise((resolve) => setTimeout(() => resolve('yes'), 100)),
    })
    assert.equal(result.error, null)
    assert.equal(result.stopReason, 'end_turn')
    assert.equal(result.timeout, null)
    assert.match(result.outputText, /^a\[\{"outcome":"selected","optionId":"yes"\}\]\nb$/)

    const abort = new AbortController()
    const cancelled = await run([{ say: 'a' }, { sleep: 100 }, { say: 'b' }, { sleep: 60_000 }], {
      cancelGraceMs: beyond,
      signal: abort.signal,
      onEvent: (event) => { if (event.type === 'message' && (event.data.content as { text?: string }).text === 'b') abort.abort() },
    })
    assert.equal(cancelled.stopReason, 'cancelled', 'the agent ended the turn itself; the grace did not expire at once')
    assert.equal(cancelled.error, null)
    assert.equal(cancelled.aborted, true)
  })

  test('onLive hands out the recorder\'s live state: session id, tool calls (those known only from a permission request too) and text', async () => {
    let live: AcpLiveView | undefined
    let seen: { sessionId: string | null, toolCalls: string[], outputText: string } | undefined
    const result = await run([{ say: 'hi' }, { tool: { toolCallId: 't1', title: 'Read', kind: 'read', status: 'pending' } }, { permission: { toolCallId: 'p1', title: 'Edit', kind: 'edit' } }], {
      permissionPolicy: 'ask',
      onLive: (view) => { live = view },
      onPermissionRequest: async () => {
        const view = live as AcpLiveView
        seen = { sessionId: view.sessionId, toolCalls: view.toolCalls.map((c) => c.toolCallId), outputText: view.outputText }
        return 'yes'
      },
    })
    assert.equal(result.error, null)
    assert.deepEqual(seen, { sessionId: result.sessionId, toolCalls: ['t1', 'p1'], outputText: 'hi' })
    assert.deepEqual(live?.toolCalls, result.toolCalls)
  })

  test('an empty prompt only creates the session (stop reason no_prompt)', async () => {
    const result = await runAcpSession({ agent: agentArgv(SCRIPTED_AGENT, marker()), workdir, prompt: '' })
    assert.equal(result.stopReason, 'no_prompt')
    assert.match(result.sessionId ?? '', /^fake-/)
  })

  test('an agent that cannot be started is a clear error', async () => {
    const result = await runAcpSession({ agent: 'no-such-agent-binary --acp', workdir, prompt: 'x' })
    assert.equal(result.stopReason, 'error')
    assert.match(result.error ?? '', /cannot start the agent "no-such-agent-binary": spawn no-such-agent-binary ENOENT/)
  })
})
