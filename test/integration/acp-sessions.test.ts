import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { RuntimeClient, RuntimeError } from '../../src/client/index.js'
import { agentArgv, assertNoProcesses, marker, SCRIPTED_AGENT } from '../helpers/acp.js'
import { processesMatching } from '../helpers/processes.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

/** An agent command line for the API (the marker makes its processes findable). */
const agent = (m: string): string => agentArgv(SCRIPTED_AGENT, m).map((a) => `'${a}'`).join(' ')
const script = (...steps: unknown[]): string => JSON.stringify(steps)

describe('warm ACP sessions (/acp/sessions)', { concurrency: true }, () => {
  let server: TestServer
  /** A server whose idle agents end after half a second. */
  let shortTtl: TestServer
  const top = mkdtempSync(join(tmpdir(), 'acp-sessions-'))
  let dirs = 0
  before(async () => {
    server = await startServer({ killGrace: '1' })
    shortTtl = await startServer({ killGrace: '1', acpIdleTtl: '0.5' })
  })
  after(async () => {
    await server.close()
    await shortTtl.close()
    rmSync(top, { recursive: true, force: true })
  })

  /** A fresh agent state dir and method log, and the env that points the scripted agent at them. */
  const agentFiles = (extra: Record<string, string> = {}): { env: Record<string, string>, methods: () => string[] } => {
    const dir = join(top, `agent-${++dirs}`)
    const log = `${dir}.log`
    return {
      env: { FAKE_ACP_STATE: dir, FAKE_ACP_LOG: log, ...extra },
      methods: () => existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [],
    }
  }
  const open = async (body: Record<string, unknown>, on = server): Promise<any> => {
    const created = await on.api('POST', '/acp/sessions', { workdir: top, permissionPolicy: 'allow-all', ...body })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    return created.body
  }
  const prompt = async (id: string, text: string, on = server): Promise<string> => {
    const queued = await on.api('POST', `/acp/sessions/${id}/prompts`, { prompt: text })
    assert.equal(queued.status, 202, JSON.stringify(queued.body))
    assert.equal(queued.body.status, 'pending')
    return queued.body.jobId
  }
  const close = async (id: string, m: string, on = server): Promise<void> => {
    assert.equal((await on.api('DELETE', `/acp/sessions/${id}`)).status, 200)
    await assertNoProcesses(m)
  }

  test('a warm session runs two prompts in the same agent process, and the second sends no initialize', async () => {
    const m = marker()
    const files = agentFiles()
    const session = await open({ agent: agent(m), env: files.env })
    assert.equal(session.state, 'idle')
    assert.equal(session.warm, true)
    assert.match(session.acpSessionId, /^fake-/)
    assert.deepEqual(session.agentInfo, { name: 'scripted-agent', version: '1.0.0' })
    const first = await server.finished(await prompt(session.id, script({ say: 'one' })))
    const second = await server.finished(await prompt(session.id, script({ say: 'two' })))
    for (const [job, text] of [[first, 'one'], [second, 'two']]) {
      assert.equal(job.status, 'completed')
      assert.equal(job.mode, 'acp')
      assert.equal(job.stdout, text)
      assert.equal(job.acpSessionId, session.acpSessionId)
      assert.equal(job.pid, session.pid, 'the turn ran in the warm agent')
    }
    assert.deepEqual(second.events.map((e: any) => e.type), ['message', 'stop'], 'no initialize, no session event: the agent was warm')
    const methods = files.methods()
    assert.deepEqual(methods.map((l) => l.split(' ')[1]), ['initialize', 'session/new', 'session/prompt', 'session/prompt'])
    assert.equal(new Set(methods.map((l) => l.split(' ')[0])).size, 1, 'one agent process')
    const history = (await server.api('GET', `/acp/sessions/${session.id}/history`)).body
    assert.deepEqual(history.turns.map((t: any) => [t.jobId, t.prompt, t.stopReason, t.error]), [
      [first.id ?? first.jobId, script({ say: 'one' }), 'end_turn', null],
      [second.id ?? second.jobId, script({ say: 'two' }), 'end_turn', null],
    ])
    const view = (await server.api('GET', `/acp/sessions/${session.id}`)).body
    assert.equal(view.turns, 2)
    assert.ok((await server.api('GET', '/acp/sessions')).body.some((s: any) => s.id === session.id))
    await close(session.id, m)
  })

  test('queued prompts run one at a time, in the order they were sent; the queue shows the waiting ones', async () => {
    const m = marker()
    const session = await open({ agent: agent(m), env: agentFiles().env, permissionPolicy: 'ask' })
    const ids = [
      await prompt(session.id, script({ permission: { toolCallId: 'p1', title: 'Read', kind: 'read' } }, { say: 'a' })),
      await prompt(session.id, script({ say: 'b' }, { sleep: 100 })),
      await prompt(session.id, script({ say: 'c' })),
    ]
    // The first turn waits for a person's answer: meanwhile the others wait in the queue.
    const asked = await waitFor(async () => {
      const job = (await server.api('GET', `/jobs/${ids[0]}`)).body
      return job.events?.find((e: any) => e.type === 'permission_request')
    }, 'the first prompt to ask for a permission')
    const busy = (await server.api('GET', `/acp/sessions/${session.id}`)).body
    assert.deepEqual([busy.state, busy.jobId, busy.queue], ['busy', ids[0], ids.slice(1)])
    assert.deepEqual((await server.api('GET', `/jobs/${ids[1]}`)).body.status, 'pending')
    const answered = await server.api('POST', `/jobs/${ids[0]}/permission`, { requestId: asked.data.requestId, optionId: 'yes' })
    assert.equal(answered.status, 200)
    const jobs = []
    for (const id of ids) jobs.push(await server.finished(id))
    assert.deepEqual(jobs.map((j) => j.status), ['completed', 'completed', 'completed'])
    assert.deepEqual(jobs.map((j) => j.stdout.slice(-1)), ['a', 'b', 'c'])
    for (let i = 1; i < jobs.length; i++) assert.ok(jobs[i].startedAt >= jobs[i - 1].finishedAt, `prompt ${i + 1} started after prompt ${i} ended`)
    await close(session.id, m)
  })

  test('an idle agent is ended after the idle TTL; the next prompt starts it again and resumes the session', async () => {
    const m = marker()
    const files = agentFiles({ FAKE_ACP_RESUME: '1' })
    const session = await open({ agent: agent(m), env: files.env }, shortTtl)
    await shortTtl.finished(await prompt(session.id, script({ say: 'before' }), shortTtl))
    await waitFor(async () => (await shortTtl.api('GET', `/acp/sessions/${session.id}`)).body.warm === false, 'the idle agent to be ended')
    await assertNoProcesses(m)
    const job = await shortTtl.finished(await prompt(session.id, script({ say: 'after' }), shortTtl))
    assert.equal(job.status, 'completed')
    assert.equal(job.stdout, 'after')
    const opened = job.events.find((e: any) => e.type === 'session')
    assert.deepEqual([opened.data.sessionId, opened.data.loaded, opened.data.resumed], [session.acpSessionId, true, true])
    assert.deepEqual(files.methods().map((l) => l.split(' ')[1]).slice(-3), ['initialize', 'session/resume', 'session/prompt'])
    assert.equal((await shortTtl.api('GET', `/acp/sessions/${session.id}`)).body.acpSessionId, session.acpSessionId)
    await close(session.id, m, shortTtl)
  })

  test('an agent that cannot resume loads the session (history replayed); one that can neither starts a new one and says the history is lost', async () => {
    const m = marker()
    const loading = await open({ agent: agent(m), env: agentFiles().env }, shortTtl)
    await shortTtl.finished(await prompt(loading.id, script({ say: 'before' }), shortTtl))
    await waitFor(async () => (await shortTtl.api('GET', `/acp/sessions/${loading.id}`)).body.warm === false, 'the idle agent to be ended')
    const loaded = await shortTtl.finished(await prompt(loading.id, script({ say: 'after' }), shortTtl))
    assert.equal(loaded.status, 'completed')
    assert.deepEqual(loaded.events.filter((e: any) => e.type === 'replay').map((e: any) => e.data.content.text), [script({ say: 'before' }), 'before'])
    await close(loading.id, m, shortTtl)

    const m2 = marker()
    const forgetting = await open({ agent: agent(m2) }, shortTtl)
    await shortTtl.finished(await prompt(forgetting.id, script({ say: 'before' }), shortTtl))
    await waitFor(async () => (await shortTtl.api('GET', `/acp/sessions/${forgetting.id}`)).body.warm === false, 'the idle agent to be ended')
    const renewed = await shortTtl.finished(await prompt(forgetting.id, script({ say: 'after' }), shortTtl))
    assert.equal(renewed.status, 'completed')
    const lost = renewed.events.find((e: any) => e.type === 'history_lost')
    assert.equal(lost.data.previousSessionId, forgetting.acpSessionId)
    assert.notEqual(lost.data.sessionId, forgetting.acpSessionId)
    assert.equal((await shortTtl.api('GET', `/acp/sessions/${forgetting.id}`)).body.acpSessionId, lost.data.sessionId)
    await close(forgetting.id, m2, shortTtl)
  })

  test('an agent that no longer knows the session (-32002 on session/load) gets a new one, with history_lost', async () => {
    const m = marker()
    const files = agentFiles()
    const session = await open({ agent: agent(m), env: files.env }, shortTtl)
    await shortTtl.finished(await prompt(session.id, script({ say: 'before' }), shortTtl))
    await waitFor(async () => (await shortTtl.api('GET', `/acp/sessions/${session.id}`)).body.warm === false, 'the idle agent to be ended')
    rmSync(files.env.FAKE_ACP_STATE as string, { recursive: true, force: true })
    const job = await shortTtl.finished(await prompt(session.id, script({ say: 'after' }), shortTtl))
    assert.equal(job.status, 'completed')
    const lost = job.events.find((e: any) => e.type === 'history_lost')
    assert.equal(lost.data.previousSessionId, session.acpSessionId)
    assert.match(lost.data.reason, /session\/load failed: .*\(code -32002\)/)
    await close(session.id, m, shortTtl)
  })

  test('a warm session shows its opening (mode chosen and why, warnings), usage, modes, and keeps the capabilities and transcript it was opened with', async () => {
    const m = marker()
    const files = agentFiles({ FAKE_ACP_MODES: 'auto,default,acceptEdits' })
    const session = await open({ agent: agent(m), env: files.env, permissionPolicy: 'workdir', capabilities: { fs: false }, transcript: true })
    const types = session.openingEvents.map((e: any) => e.type)
    assert.ok(types.includes('initialize') && types.includes('session'), types.join(','))
    const chosen = session.openingEvents.find((e: any) => e.type === 'permission_mode')
    assert.deepEqual([chosen?.data.modeId, chosen?.data.previousModeId, chosen?.data.changed], ['default', 'auto', true])
    assert.match(chosen?.data.reason, /mode "default" asks, so the workdir policy holds/)
    assert.equal(session.modes?.currentModeId, 'default')

    const usage = { inputTokens: 7, outputTokens: 3, totalTokens: 10 }
    const done = await server.finished(await prompt(session.id, script({ capabilities: true }, { usage })))
    assert.equal(done.status, 'completed')
    const advertised = JSON.parse(done.stdout)
    assert.deepEqual(advertised.fs, { readTextFile: false, writeTextFile: false }, done.stdout)
    assert.equal(advertised.terminal, true)
    const transcript = await server.api('GET', `/jobs/${done.jobId ?? done.id}/transcript`)
    assert.equal(transcript.status, 200)
    const view = (await server.api('GET', `/acp/sessions/${session.id}`)).body
    assert.deepEqual(view.lastUsage, usage)
    assert.equal(view.modes?.currentModeId, 'default')
    assert.deepEqual(view.openingEvents, session.openingEvents, 'the opening stays on the session')
    await close(session.id, m)

    const m2 = marker()
    const yolo = await open({ agent: agent(m2), env: agentFiles({ FAKE_ACP_MODES: 'yolo,plan' }).env, permissionPolicy: 'read-only' })
    const warning = yolo.openingEvents.find((e: any) => e.type === 'warning')
    assert.equal(warning?.data.code, 'policy_not_enforceable')
    await close(yolo.id, m2)
  })

  test('a warm session is not opened on an ACP session a job runs a turn on, nor on one another warm session holds (409 ACP_SESSION_BUSY)', async () => {
    const m = marker()
    const files = agentFiles()
    const job = (prompt: string, extra: Record<string, unknown> = {}): Promise<string> =>
      server.submit({ mode: 'acp', agent: agent(m), workdir: top, env: files.env, permissionPolicy: 'allow-all', prompt, ...extra })
    const made = await server.finished(await job(script({ say: '0' })))
    assert.equal(made.status, 'completed')
    const busy = await job(script({ say: 'busy' }, { sleep: 60_000 }), { acp_session_id: made.acpSessionId })
    await waitFor(async () => (await server.api('GET', `/jobs/${busy}`)).body.stdout === 'busy', 'the turn to run')
    const body = { workdir: top, permissionPolicy: 'allow-all', agent: agent(m), env: files.env, acp_session_id: made.acpSessionId }
    const refused = await server.api('POST', '/acp/sessions', body)
    assert.equal(refused.status, 409, JSON.stringify(refused.body))
    assert.equal(refused.body.code, 'ACP_SESSION_BUSY')
    assert.match(refused.body.error, /a job runs a turn on it/)
    assert.equal((await server.api('POST', `/jobs/${busy}/kill`)).status, 200)
    await server.finished(busy)
    const session = await open(body)
    const twice = await server.api('POST', '/acp/sessions', body)
    assert.equal(twice.status, 409, JSON.stringify(twice.body))
    assert.match(twice.body.error, /another warm session holds it/)
    await close(session.id, m)
  })

  test('a job on an ACP session that a warm session is being opened on waits for the opening, then runs in the warm agent', async () => {
    const m = marker()
    const files = agentFiles({ FAKE_ACP_LOAD_DELAY_MS: '1500' })
    const made = await server.finished(await server.submit({ mode: 'acp', agent: agent(m), workdir: top, env: files.env, permissionPolicy: 'allow-all', prompt: script({ say: '0' }) }))
    assert.equal(made.status, 'completed')
    const opening = server.api('POST', '/acp/sessions', { workdir: top, permissionPolicy: 'allow-all', agent: agent(m), env: files.env, acp_session_id: made.acpSessionId })
    await waitFor(() => files.methods().some((line) => line.endsWith(' session/load')), 'the warm agent to be loading the session')
    const routed = await server.submit({ mode: 'acp', agent: agent(m), workdir: top, env: files.env, acp_session_id: made.acpSessionId, prompt: script({ say: 'routed' }) })
    const created = await opening
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const done = await server.finished(routed)
    assert.equal(done.status, 'completed')
    assert.equal(done.stdout, 'routed')
    assert.equal(done.pid, created.body.pid, 'the job ran in the warm agent, not in a cold one beside the opening')
    assert.equal(files.methods().filter((line) => line.endsWith(' initialize')).length, 2, 'two agents: the first job\'s and the warm one')
    await close(created.body.id, m)
  })

  test('two mode "acp" jobs on one acp_session_id run one after the other; one on a warm session\'s id runs in its agent', async () => {
    const m = marker()
    const { env } = agentFiles()
    const made = await server.finished(await server.submit({ mode: 'acp', agent: agent(m), workdir: top, env, prompt: script({ say: '0' }) }))
    assert.equal(made.status, 'completed')
    const body = { mode: 'acp', agent: agent(m), workdir: top, env, acp_session_id: made.acpSessionId }
    const first = await server.submit({ ...body, prompt: script({ sleep: 300 }, { say: '1' }) })
    const second = await server.submit({ ...body, prompt: script({ say: '2' }) })
    const [a, b] = [await server.finished(first), await server.finished(second)]
    assert.deepEqual([a.status, b.status], ['completed', 'completed'])
    assert.ok(b.startedAt >= a.finishedAt, 'the second job started after the first ended')

    const warm = await open({ agent: agent(m), env })
    const routed = await server.finished(await server.submit({ mode: 'acp', agent: agent(m), workdir: top, env, acp_session_id: warm.acpSessionId, prompt: script({ say: 'routed' }) }))
    assert.equal(routed.status, 'completed')
    assert.equal(routed.pid, warm.pid, 'the job ran in the warm agent')
    assert.equal((await server.api('GET', `/acp/sessions/${warm.id}/history`)).body.turns[0].jobId, routed.id ?? routed.jobId)
    await close(warm.id, m)
  })

  test('killing a prompt cancels its turn and keeps the agent warm; an agent that ignores the cancel is killed and the next prompt starts it again', async () => {
    const m = marker()
    const session = await open({ agent: agent(m), env: agentFiles().env })
    const stopped = await prompt(session.id, script({ say: 'working' }, { sleep: 60_000 }))
    await waitFor(async () => (await server.api('GET', `/jobs/${stopped}`)).body.stdout === 'working', 'the prompt to run')
    assert.equal((await server.api('POST', `/jobs/${stopped}/kill`)).status, 200)
    const cancelled = await server.finished(stopped)
    assert.deepEqual([cancelled.status, cancelled.stopReason], ['cancelled', 'cancelled'])
    assert.equal((await server.api('GET', `/acp/sessions/${session.id}`)).body.pid, session.pid, 'the same agent is still warm')

    const stubborn = await prompt(session.id, script({ say: 'busy' }, { sleep: 60_000, ignoreCancel: true }))
    await waitFor(async () => (await server.api('GET', `/jobs/${stubborn}`)).body.stdout === 'busy', 'the prompt to run')
    assert.equal((await server.api('POST', `/jobs/${stubborn}/kill`)).status, 200)
    const killed = await server.finished(stubborn)
    assert.equal(killed.status, 'cancelled')
    assert.equal(killed.acpError, 'cancelled; the agent did not stop within 1 s and was killed')
    assert.equal((await server.api('GET', `/acp/sessions/${session.id}`)).body.warm, false)
    const next = await server.finished(await prompt(session.id, script({ say: 'again' })))
    assert.deepEqual([next.status, next.stdout], ['completed', 'again'])
    assert.notEqual(next.pid, session.pid)
    await close(session.id, m)
  })

  test('DELETE cancels the running and queued prompts, sends session/close, and leaves no process', async () => {
    const m = marker()
    const files = agentFiles({ FAKE_ACP_CLOSE: '1' })
    const session = await open({ agent: agent(m), env: files.env })
    const running = await prompt(session.id, script({ say: 'working' }, { sleep: 60_000 }))
    const queued = await prompt(session.id, script({ say: 'never' }))
    await waitFor(async () => (await server.api('GET', `/jobs/${running}`)).body.stdout === 'working', 'the first prompt to run')
    const deleted = await server.api('DELETE', `/acp/sessions/${session.id}`)
    assert.equal(deleted.status, 200)
    assert.equal(deleted.body.state, 'closed')
    assert.equal(deleted.body.warm, false)
    assert.deepEqual([(await server.finished(running)).status, (await server.finished(queued)).status], ['cancelled', 'cancelled'])
    assert.ok(files.methods().some((l) => l.endsWith(' session/close')), 'session/close was sent')
    assert.deepEqual(processesMatching(m), [])
    const refused = await server.api('POST', `/acp/sessions/${session.id}/prompts`, { prompt: 'x' })
    assert.deepEqual([refused.status, refused.body.code], [409, 'ACP_SESSION_CLOSED'])
    assert.equal((await server.api('DELETE', `/acp/sessions/${session.id}`)).status, 200, 'closing again is fine')
  })

  test('the TypeScript client opens, prompts, lists, reads the history of and closes a warm session', async () => {
    const m = marker()
    const client = new RuntimeClient({ url: server.url, apiKey: server.key })
    const session = await client.openAcpSession({ agent: agent(m), workdir: top, permissionPolicy: 'read-only' })
    assert.equal(session.permissionPolicy, 'read-only')
    const { jobId } = await client.promptAcpSession(session.id, { prompt: script({ say: 'hi' }), timeout: 30 })
    assert.equal((await client.wait(jobId)).stdout, 'hi')
    assert.ok((await client.acpSessions()).some((s) => s.id === session.id))
    assert.equal((await client.acpSession(session.id)).turns, 1)
    assert.deepEqual((await client.acpSessionHistory(session.id)).turns.map((t) => t.jobId), [jobId])
    assert.equal((await client.closeAcpSession(session.id)).state, 'closed')
    await assertNoProcesses(m)
    await assert.rejects(client.acpSession('nope'), (err: unknown) => err instanceof RuntimeError && err.status === 404 && err.code === 'ACP_SESSION_NOT_FOUND')
  })

  test('bad input: unknown ids are 404, bad bodies 400, an agent that cannot start 502', async () => {
    for (const [method, path, body] of [['GET', '/acp/sessions/nope'], ['DELETE', '/acp/sessions/nope'], ['GET', '/acp/sessions/nope/history'], ['POST', '/acp/sessions/nope/prompts', { prompt: 'x' }]] as const) {
      const answer = await server.api(method, path, body)
      assert.deepEqual([answer.status, answer.body.code], [404, 'ACP_SESSION_NOT_FOUND'], `${method} ${path}`)
    }
    const bad: Array<[unknown, string]> = [
      ['[]', 'request body must be a JSON object'],
      [{ prompt: 'hi' }, 'prompt does not belong here: send it with POST /acp/sessions/:id/prompts'],
      [{ mode: 'shell' }, 'mode must be "acp" (or left out)'],
      [{ permissionPolicy: 'maybe' }, 'permissionPolicy must be one of deny, read-only, workdir, allow-all, ask'],
      [{ agent: '"unterminated' }, 'agent: the command line has an unterminated double quote'],
    ]
    for (const [body, error] of bad) {
      const answer = await server.api('POST', '/acp/sessions', body)
      assert.deepEqual([answer.status, answer.body], [400, { error, code: 'INVALID_REQUEST' }], JSON.stringify(body))
    }
    const missing = await server.api('POST', '/acp/sessions', { workdir: join(top, 'no-such-dir') })
    assert.deepEqual([missing.status, missing.body.code], [400, 'WORKDIR_NOT_FOUND'])
    const failed = await server.api('POST', '/acp/sessions', { agent: 'no-such-agent-binary --acp', workdir: top })
    assert.equal(failed.status, 502)
    assert.equal(failed.body.code, 'ACP_SESSION_START_FAILED')
    assert.match(failed.body.error, /^the agent could not start the session: cannot start the agent "no-such-agent-binary"/)

    const m = marker()
    const session = await open({ agent: agent(m) })
    for (const [body, error] of [
      [{}, 'prompt is required (a non-empty string)'],
      [{ prompt: 5 }, 'prompt is required (a non-empty string)'],
      [{ prompt: 'x', agent: 'other' }, 'unknown field agent: a prompt takes prompt, timeout and idleTimeout (the rest is the session\'s)'],
      [{ prompt: 'x', timeout: -1 }, 'timeout must be a number of seconds between 0 and 31536000'],
    ] as const) {
      const answer = await server.api('POST', `/acp/sessions/${session.id}/prompts`, body)
      assert.deepEqual([answer.status, answer.body], [400, { error, code: 'INVALID_REQUEST' }], JSON.stringify(body))
    }
    await close(session.id, m)
  })
})

describe('the warm ACP session limit', () => {
  test('over --max-acp-sessions, opening one more is refused with 429 and nothing is started; closing one makes room', async () => {
    const top = mkdtempSync(join(tmpdir(), 'acp-sessions-limit-'))
    const m = marker()
    const limited = await startServer({ killGrace: '1', maxAcpSessions: '1' })
    try {
      const first = await limited.api('POST', '/acp/sessions', { agent: agent(m), workdir: top })
      assert.equal(first.status, 201, JSON.stringify(first.body))
      const over = await limited.api('POST', '/acp/sessions', { agent: agent(m), workdir: top })
      assert.equal(over.status, 429)
      assert.deepEqual(over.body, { error: 'too many open ACP sessions (limit 1); close one with DELETE /acp/sessions/:id', code: 'ACP_SESSION_LIMIT' })
      assert.equal((await limited.api('GET', '/acp/sessions')).body.length, 1)
      assert.equal((await limited.api('DELETE', `/acp/sessions/${first.body.id}`)).status, 200)
      const again = await limited.api('POST', '/acp/sessions', { agent: agent(m), workdir: top })
      assert.equal(again.status, 201, JSON.stringify(again.body))
      assert.equal((await limited.api('DELETE', `/acp/sessions/${again.body.id}`)).status, 200)
      await assertNoProcesses(m)
    } finally {
      await limited.app.close()
      rmSync(top, { recursive: true, force: true })
    }
  })
})

describe('warm ACP sessions across a server restart', () => {
  test('the registry is kept: after a restart the session is known, cold, and its next prompt loads it', async () => {
    const top = mkdtempSync(join(tmpdir(), 'acp-sessions-restart-'))
    const m = marker()
    const first = await startServer({ killGrace: '1' })
    const env = { FAKE_ACP_STATE: join(top, 'agent') }
    let second: TestServer | undefined
    try {
      const created = await first.api('POST', '/acp/sessions', { agent: agent(m), workdir: top, env })
      assert.equal(created.status, 201)
      const id = created.body.id
      assert.equal((await first.finished((await first.api('POST', `/acp/sessions/${id}/prompts`, { prompt: script({ say: 'one' }) })).body.jobId)).status, 'completed')
      await first.app.close()
      await assertNoProcesses(m)
      second = await startServer({ killGrace: '1', stateDir: first.stateDir })
      const known = (await second.api('GET', `/acp/sessions/${id}`)).body
      assert.deepEqual([known.state, known.warm, known.pid, known.turns, known.acpSessionId], ['idle', false, null, 1, created.body.acpSessionId])
      const job = await second.finished((await second.api('POST', `/acp/sessions/${id}/prompts`, { prompt: script({ say: 'two' }) })).body.jobId)
      assert.equal(job.status, 'completed')
      assert.equal(job.acpSessionId, created.body.acpSessionId)
      assert.ok(job.events.some((e: any) => e.type === 'session' && e.data.loaded === true))
      assert.equal((await second.api('DELETE', `/acp/sessions/${id}`)).status, 200)
      await assertNoProcesses(m)
    } finally {
      await second?.close()
      rmSync(top, { recursive: true, force: true })
    }
  })

  test('a warm agent that a crashed server left running is ended by the next server', async () => {
    const top = mkdtempSync(join(tmpdir(), 'acp-sessions-crash-'))
    const m = marker()
    // Why a second server on the same state dir: it sees the registry as after a crash of the first, whose agent still runs.
    const crashed = await startServer({ killGrace: '1' })
    let next: TestServer | undefined
    try {
      const created = await crashed.api('POST', '/acp/sessions', { agent: agent(m), workdir: top })
      assert.equal(created.status, 201)
      assert.equal(processesMatching(m).length > 0, true)
      next = await startServer({ killGrace: '1', stateDir: crashed.stateDir })
      await assertNoProcesses(m)
      const known = (await next.api('GET', `/acp/sessions/${created.body.id}`)).body
      assert.deepEqual([known.state, known.warm], ['idle', false])
    } finally {
      await next?.app.close()
      await crashed.close()
      rmSync(top, { recursive: true, force: true })
    }
  })

  test('POST /update answers 409 while a prompt runs; with the session idle it goes on, ends the agent and keeps the session', async () => {
    const top = mkdtempSync(join(tmpdir(), 'acp-sessions-update-'))
    const m = marker()
    let restarts = 0
    const server = await startServer({ killGrace: '1' }, {}, { onRestart: () => { restarts++ } })
    try {
      const created = await server.api('POST', '/acp/sessions', { agent: agent(m), workdir: top, permissionPolicy: 'ask' })
      assert.equal(created.status, 201)
      const jobId = (await server.api('POST', `/acp/sessions/${created.body.id}/prompts`, { prompt: script({ permission: { toolCallId: 'p', title: 'Read', kind: 'read' } }) })).body.jobId
      const asked = await waitFor(async () => (await server.api('GET', `/jobs/${jobId}`)).body.events?.find((e: any) => e.type === 'permission_request'), 'the prompt to ask')
      const refused = await server.api('POST', '/update')
      assert.deepEqual([refused.status, refused.body.acp_jobs], [409, 1])
      await server.api('POST', `/jobs/${jobId}/permission`, { requestId: asked.data.requestId, optionId: 'yes' })
      assert.equal((await server.finished(jobId)).status, 'completed')
      assert.equal((await server.api('GET', `/acp/sessions/${created.body.id}`)).body.warm, true)
      assert.equal((await server.api('POST', '/update')).status, 200)
      await waitFor(() => restarts === 1, 'the restart hook')
      await assertNoProcesses(m)
      const saved = JSON.parse(readFileSync(join(server.stateDir, 'acp-sessions.json'), 'utf8'))
      assert.deepEqual(saved.map((r: any) => [r.id, r.acpSessionId, r.agentProcess]), [[created.body.id, created.body.acpSessionId, null]])
    } finally {
      await server.app.close()
      rmSync(server.stateDir, { recursive: true, force: true })
      rmSync(top, { recursive: true, force: true })
    }
  })
})
