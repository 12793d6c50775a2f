import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { agentArgv, assertNoProcesses, marker, SCRIPTED_AGENT } from '../helpers/acp.js'
import { startServer, type TestServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

type ToolAnswer = { isError?: boolean, structuredContent?: any, content: Array<{ type: string, text?: string }> }

async function connect (server: TestServer, headers: Record<string, string> = { 'x-api-key': server.key }): Promise<{ client: Client, transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), { requestInit: { headers } })
  const client = new Client({ name: 'mcp-test', version: '1.0.0' })
  await client.connect(transport)
  return { client, transport }
}

const call = async (client: Client, name: string, args: Record<string, unknown>): Promise<ToolAnswer> =>
  await client.callTool({ name, arguments: args }) as ToolAnswer

const textOf = (answer: ToolAnswer): string => answer.content.map((c) => c.text ?? '').join('\n')

const PAGE_ORIGIN = 'https://app.example'
const TOOL_COUNT = 14

describe('the MCP endpoint', () => {
  let server: TestServer
  let client: Client
  let transport: StreamableHTTPClientTransport
  let dir: string

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mcp-files-'))
    server = await startServer({ filesRoot: dir, corsOrigin: [PAGE_ORIGIN] })
    ;({ client, transport } = await connect(server))
  })
  after(async () => {
    await client.close()
    // Why: session shells outlive the server by design (a restarted server re-adopts them).
    for (const s of (await server.api('GET', '/sessions')).body as Array<{ sessionKey: string }>) await server.api('DELETE', `/sessions/${encodeURIComponent(s.sessionKey)}`)
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('lists every tool with an object input schema and a description', async () => {
    const { tools } = await client.listTools()
    const names = tools.map((t) => t.name).sort()
    assert.deepEqual(names, ['agent_status', 'edit_file', 'job_kill', 'job_output', 'job_status', 'job_stdin', 'list_directory',
      'list_sessions', 'read_file', 'run_agent', 'run_command', 'search_files', 'session_run', 'write_file'])
    for (const tool of tools) {
      assert.equal(tool.inputSchema.type, 'object', tool.name)
      assert.ok((tool.description ?? '').length > 40, `${tool.name} has a description for a model`)
    }
    const run = tools.find((t) => t.name === 'run_command')
    assert.deepEqual(run?.inputSchema.required, ['command'])
    assert.ok(run?.inputSchema.properties?.wait_seconds)
  })

  test('run_command of a short command answers its exit code and output', async () => {
    const answer = await call(client, 'run_command', { command: 'echo hello; echo oops >&2; exit 3' })
    assert.equal(answer.isError, undefined)
    assert.equal(answer.structuredContent.status, 'failed')
    assert.equal(answer.structuredContent.exitCode, 3)
    assert.equal(answer.structuredContent.stdout, 'hello\n')
    assert.equal(answer.structuredContent.stderr, 'oops\n')
    assert.match(textOf(answer), /exit code 3/)
  })

  test('run_command that outlives wait_seconds returns the job id, then job_status and job_output finish it', async () => {
    const answer = await call(client, 'run_command', { command: 'echo started; read line; echo "got $line"', wait_seconds: 0.2 })
    assert.equal(answer.structuredContent.running, true)
    const jobId = answer.structuredContent.jobId as string
    assert.match(textOf(answer), new RegExp(`${jobId} is still running`))
    const stdin = await call(client, 'job_stdin', { job_id: jobId, data: 'ping\n', eof: true })
    assert.equal(stdin.structuredContent.written, 5)
    const status = await call(client, 'job_status', { job_id: jobId, wait_seconds: 20 })
    assert.equal(status.structuredContent.status, 'completed')
    assert.equal(status.structuredContent.stdout, 'started\ngot ping\n')
    const first = await call(client, 'job_output', { job_id: jobId, stdout_offset: 0 })
    assert.equal(first.structuredContent.nextStdoutOffset, 17)
    const rest = await call(client, 'job_output', { job_id: jobId, stdout_offset: 8 })
    assert.equal(rest.structuredContent.stdout, 'got ping\n')
    const tail = await call(client, 'job_output', { job_id: jobId, tail_lines: 1 })
    assert.equal(tail.structuredContent.stdout, 'got ping\n')
  })

  const runningJobWith = async (command: string): Promise<string> => (await waitFor(async () =>
    ((await server.api('GET', '/jobs?status=running')).body as Array<{ jobId: string, command: string }>).find((j) => j.command === command),
  `a running job of ${command}`)).jobId

  test('cancelling run_command kills its job, unless it was asked to detach', async () => {
    const cancelled = new AbortController()
    const killedCall = client.callTool({ name: 'run_command', arguments: { command: 'sleep 301', wait_seconds: 120 } }, undefined, { signal: cancelled.signal })
    const killedId = await runningJobWith('sleep 301')
    cancelled.abort()
    await assert.rejects(killedCall)
    assert.equal((await server.finished(killedId)).status, 'cancelled')

    const detached = new AbortController()
    const detachedCall = client.callTool({ name: 'run_command', arguments: { command: 'sleep 302', wait_seconds: 120, detach: true } }, undefined, { signal: detached.signal })
    const keptId = await runningJobWith('sleep 302')
    detached.abort()
    await assert.rejects(detachedCall)
    const kept = await call(client, 'job_status', { job_id: keptId })
    assert.equal(kept.structuredContent.status, 'running')
    await call(client, 'job_kill', { job_id: keptId })
    assert.equal((await server.finished(keptId)).status, 'cancelled')
  })

  test('a long wait sends progress notifications to a client that asked for them', async () => {
    const progress: number[] = []
    const answer = await client.callTool({ name: 'run_command', arguments: { command: 'read x', wait_seconds: 6 } }, undefined, {
      onprogress: (p) => { progress.push(p.progress) },
    }) as ToolAnswer
    assert.equal(answer.structuredContent.running, true)
    assert.ok(progress.length >= 1, 'at least one progress notification')
    await call(client, 'job_kill', { job_id: answer.structuredContent.jobId })
  })

  test('job_kill ends a running job', async () => {
    const answer = await call(client, 'run_command', { command: 'sleep 300', wait_seconds: 0 })
    const jobId = answer.structuredContent.jobId as string
    await call(client, 'job_kill', { job_id: jobId })
    const status = await call(client, 'job_status', { job_id: jobId, wait_seconds: 20 })
    assert.equal(status.structuredContent.status, 'cancelled')
  })

  test('output longer than the model cap is cut to head and tail with the omitted byte count', async () => {
    const answer = await call(client, 'run_command', { command: 'head -c 40000 /dev/zero | tr "\\0" a' })
    assert.equal(answer.structuredContent.stdoutBytes, 40000)
    assert.equal(answer.structuredContent.stdoutOmittedBytes, 40000 - 16384)
    assert.match(answer.structuredContent.stdout, /\[… 23616 bytes omitted …\]/)
  })

  test('an unknown job is a tool error with the catalogue code, and the session goes on', async () => {
    const answer = await call(client, 'job_status', { job_id: 'nope' })
    assert.equal(answer.isError, true)
    assert.match(textOf(answer), /^JOB_NOT_FOUND: job not found/)
    assert.equal((await client.listTools()).tools.length, TOOL_COUNT)
  })

  test('files round trip: write, read a line range, list, edit with a diff', async () => {
    const path = join(dir, 'sub', 'notes.txt')
    const written = await call(client, 'write_file', { path, content: 'one\ntwo\nthree\ntwo\n' })
    assert.equal(written.structuredContent.created, true)
    const read = await call(client, 'read_file', { path, start_line: 2, end_line: 3 })
    assert.equal(read.structuredContent.content, 'two\nthree')
    const listing = await call(client, 'list_directory', { path: join(dir, 'sub') })
    assert.deepEqual(listing.structuredContent.entries.map((e: { name: string }) => e.name), ['notes.txt'])
    const ambiguous = await call(client, 'edit_file', { path, old_string: 'two', new_string: '2' })
    assert.equal(ambiguous.isError, true)
    assert.match(textOf(ambiguous), /occurs 2 times/)
    const edited = await call(client, 'edit_file', { path, old_string: 'two\nthree', new_string: 'TWO\nTHREE' })
    assert.match(edited.structuredContent.diff, /-two\n-three\n\+TWO\n\+THREE/)
    assert.equal(readFileSync(path, 'utf8'), 'one\nTWO\nTHREE\ntwo\n')
  })

  test('read_file reaches a line range far past the first 256 KiB of a big file, and cuts a range too long for a model at a whole line', async () => {
    const path = join(dir, 'numbered.txt')
    writeFileSync(path, Array.from({ length: 20_000 }, (_, i) => `line ${String(i + 1).padStart(5, '0')} ${'x'.repeat(20)}`).join('\n') + '\n')
    const deep = await call(client, 'read_file', { path, start_line: 15_000, end_line: 15_002 })
    assert.equal(deep.isError, undefined, textOf(deep))
    assert.ok(deep.structuredContent.size > 256 * 1024)
    assert.equal(deep.structuredContent.content, [15_000, 15_001, 15_002].map((n) => `line ${n} ${'x'.repeat(20)}`).join('\n'))
    assert.deepEqual([deep.structuredContent.startLine, deep.structuredContent.endLine, deep.structuredContent.truncated], [15_000, 15_002, false])
    const whole = await call(client, 'read_file', { path, start_line: 2 })
    const lastLine = whole.structuredContent.endLine as number
    assert.equal(whole.structuredContent.truncated, true)
    assert.equal(whole.structuredContent.nextLine, lastLine + 1)
    assert.ok(Buffer.byteLength(whole.structuredContent.content) <= 256 * 1024)
    assert.ok((whole.structuredContent.content as string).endsWith(`line ${String(lastLine).padStart(5, '0')} ${'x'.repeat(20)}`))
    assert.match(textOf(whole), new RegExp(`read on with start_line=${lastLine + 1}`))
    const tail = await call(client, 'read_file', { path, start_line: 19_999 })
    assert.equal(tail.structuredContent.content, `line 19999 ${'x'.repeat(20)}\nline 20000 ${'x'.repeat(20)}\n`)
    assert.equal(tail.structuredContent.truncated, false)
  })

  test('search_files finds matching lines', async () => {
    writeFileSync(join(dir, 'a.txt'), 'alpha\nneedle here\n')
    const answer = await call(client, 'search_files', { pattern: 'need+le', path: dir })
    assert.equal(answer.isError, undefined, textOf(answer))
    assert.match(answer.structuredContent.output, /a\.txt:2:needle here/)
  })

  test('search_files resolves a relative path against the files root, as read_file does', async () => {
    writeFileSync(join(dir, 'rooted.txt'), 'haystack\nrooted needle\n')
    const answer = await call(client, 'search_files', { pattern: 'rooted needle', path: 'rooted.txt' })
    assert.equal(answer.isError, undefined, textOf(answer))
    assert.match(answer.structuredContent.output, /rooted needle/)
    const whole = await call(client, 'search_files', { pattern: 'rooted needle' })
    assert.match(whole.structuredContent.output, new RegExp(`${join(dir, 'rooted.txt')}:2:rooted needle`))
    const missing = await call(client, 'search_files', { pattern: 'x', path: 'no-such-dir' })
    assert.equal(missing.isError, true)
    assert.match(textOf(missing), /^FILE_NOT_FOUND/)
  })

  test('session_run keeps the shell\'s directory and variables between calls, and list_sessions shows the session', async () => {
    const first = await call(client, 'session_run', { session_key: 'mcp-main', command: `cd ${dir} && mkdir -p deep && cd deep && export GREETING=hi && pwd`, workdir: '/' })
    assert.equal(first.isError, undefined, textOf(first))
    assert.equal(first.structuredContent.status, 'completed')
    assert.equal(first.structuredContent.stdout, `${join(dir, 'deep')}\n`)
    assert.equal(first.structuredContent.cwd, join(dir, 'deep'))
    const second = await call(client, 'session_run', { session_key: 'mcp-main', command: 'echo "$GREETING from $(pwd)"' })
    assert.equal(second.structuredContent.stdout, `hi from ${join(dir, 'deep')}\n`)
    assert.equal(second.structuredContent.sessionKey, 'mcp-main')
    assert.match(textOf(second), /^session mcp-main \(cwd /)
    const listed = await call(client, 'list_sessions', {})
    const session = listed.structuredContent.sessions.find((s: { sessionKey: string }) => s.sessionKey === 'mcp-main')
    assert.equal(session.shell, 'bash')
    assert.equal(session.cwd, join(dir, 'deep'))
    assert.match(textOf(listed), /mcp-main {2}bash {2}idle/)
  })

  test('a session_run command that outlives wait_seconds is polled to its end, and job_kill interrupts it but keeps the shell', async () => {
    const slow = await call(client, 'session_run', { session_key: 'mcp-slow', command: 'X=kept; sleep 300', wait_seconds: 0.2 })
    assert.equal(slow.structuredContent.running, true)
    await call(client, 'job_kill', { job_id: slow.structuredContent.jobId })
    const killed = await call(client, 'job_status', { job_id: slow.structuredContent.jobId, wait_seconds: 20 })
    assert.notEqual(killed.structuredContent.running, true)
    const after = await call(client, 'session_run', { session_key: 'mcp-slow', command: 'echo "X=$X"' })
    assert.equal(after.structuredContent.stdout, 'X=kept\n')
  })

  test('a job:// resource read is bounded and says how to read the rest with job_output offsets', async () => {
    const big = await call(client, 'run_command', { command: 'head -c 1100000 /dev/zero | tr "\\0" b' })
    const jobId = big.structuredContent.jobId as string
    const resource = await client.readResource({ uri: `job://${jobId}/stdout` })
    const content = resource.contents[0] as unknown as { text: string, _meta: { totalBytes: number, truncated: boolean, nextOffset: number } }
    assert.deepEqual(content._meta, { totalBytes: 1100000, truncated: true, nextOffset: 1048576 })
    assert.ok(content.text.startsWith('b'.repeat(1048576) + '\n[… 51424 more bytes: read them with job_output stdout_offset=1048576 …]'))
    const rest = await call(client, 'job_output', { job_id: jobId, stdout_offset: 1048576 })
    assert.equal(rest.structuredContent.stdoutBytes, 1100000)
    assert.equal(rest.structuredContent.nextStdoutOffset, 1100000)
  })

  test('an allowed browser origin can read the Mcp-Session-Id header (CORS exposes it)', async () => {
    const preflight = await fetch(`${server.url}/mcp`, {
      method: 'OPTIONS',
      headers: { origin: PAGE_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-api-key, mcp-session-id, mcp-protocol-version' },
    })
    assert.equal(preflight.status, 204)
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /mcp-session-id/i)
    const response = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: { 'x-api-key': server.key, origin: PAGE_ORIGIN, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'page', version: '1' } } }),
    })
    await response.text()
    assert.equal(response.headers.get('access-control-allow-origin'), PAGE_ORIGIN)
    assert.match(response.headers.get('access-control-expose-headers') ?? '', /Mcp-Session-Id/)
    await fetch(`${server.url}/mcp`, { method: 'DELETE', headers: { 'x-api-key': server.key, 'mcp-session-id': response.headers.get('mcp-session-id') as string } })
  })

  test('run_agent runs an ACP agent as a job; one that outlives wait_seconds is finished through agent_status', async () => {
    const agent = agentArgv(SCRIPTED_AGENT, marker()).map((a) => `'${a}'`).join(' ')
    const quick = await call(client, 'run_agent', { agent, prompt: JSON.stringify([{ say: 'hello from the agent' }]), workdir: dir, wait_seconds: 30 })
    assert.equal(quick.isError, undefined, textOf(quick))
    assert.equal(quick.structuredContent.status, 'completed')
    assert.equal(quick.structuredContent.stopReason, 'end_turn')
    assert.match(quick.structuredContent.output, /hello from the agent/)
    const slow = await call(client, 'run_agent', { agent, prompt: JSON.stringify([{ sleep: 1500 }, { say: 'late' }]), workdir: dir, wait_seconds: 0.2 })
    assert.equal(slow.structuredContent.running, true)
    assert.match(textOf(slow), /poll it with agent_status/)
    const done = await call(client, 'agent_status', { job_id: slow.structuredContent.jobId, wait_seconds: 30 })
    assert.equal(done.structuredContent.status, 'completed')
    assert.match(done.structuredContent.output, /late/)
    assert.ok(done.structuredContent.recentEvents.length > 0)
  })

  const runningJobTagged = async (tag: string): Promise<string> => (await waitFor(async () =>
    ((await server.api('GET', '/jobs?status=running')).body as Array<{ jobId: string }>).find((j) => JSON.stringify(j).includes(tag)),
  `a running job tagged ${tag}`)).jobId

  test('cancelling run_agent ends its ACP job, unless it was asked to detach', async () => {
    const killedTag = marker()
    const cancelled = new AbortController()
    const killedCall = client.callTool({
      name: 'run_agent',
      arguments: {
        agent: agentArgv(SCRIPTED_AGENT, killedTag).map((a) => `'${a}'`).join(' '), prompt: JSON.stringify([{ sleep: 300_000 }]), workdir: dir, wait_seconds: 120,
      }
    }, undefined, { signal: cancelled.signal })
    const killedId = await runningJobTagged(killedTag)
    cancelled.abort()
    await assert.rejects(killedCall)
    assert.equal((await server.finished(killedId)).status, 'cancelled')
    await assertNoProcesses(killedTag)

    const keptTag = marker()
    const detached = new AbortController()
    const detachedCall = client.callTool({
      name: 'run_agent',
      arguments: {
        agent: agentArgv(SCRIPTED_AGENT, keptTag).map((a) => `'${a}'`).join(' '), prompt: JSON.stringify([{ sleep: 300_000 }]), workdir: dir, wait_seconds: 120, detach: true,
      }
    }, undefined, { signal: detached.signal })
    const keptId = await runningJobTagged(keptTag)
    detached.abort()
    await assert.rejects(detachedCall)
    const kept = await call(client, 'agent_status', { job_id: keptId })
    assert.equal(kept.structuredContent.status, 'running')
    await call(client, 'job_kill', { job_id: keptId })
    assert.equal((await server.finished(keptId)).status, 'cancelled')
    await assertNoProcesses(keptTag)
  })

  test('two clients call tools at the same time, each gets its own answer', async () => {
    const other = await connect(server)
    try {
      const [mine, theirs] = await Promise.all([
        call(client, 'run_command', { command: 'sleep 0.3; echo mine' }),
        call(other.client, 'session_run', { session_key: 'mcp-other', command: 'sleep 0.3; echo theirs' }),
      ])
      assert.equal(mine.structuredContent.stdout, 'mine\n')
      assert.equal(theirs.structuredContent.stdout, 'theirs\n')
    } finally {
      await other.transport.terminateSession()
      await other.client.close()
    }
  })

  test('job output is readable as a job://{id}/stdout resource', async () => {
    const answer = await call(client, 'run_command', { command: 'printf resource' })
    const resource = await client.readResource({ uri: `job://${answer.structuredContent.jobId as string}/stdout` })
    assert.equal((resource.contents[0] as { text: string }).text, 'resource')
  })

  test('lists job://{jobId}/stdout and job://{jobId}/stderr as resource templates, and a stderr resource reads the job\'s stderr', async () => {
    const { resourceTemplates } = await client.listResourceTemplates()
    assert.deepEqual(resourceTemplates.map((t) => t.uriTemplate).sort(), ['job://{jobId}/stderr', 'job://{jobId}/stdout'])
    const answer = await call(client, 'run_command', { command: 'printf out; printf "to stderr" >&2' })
    const resource = await client.readResource({ uri: `job://${answer.structuredContent.jobId as string}/stderr` })
    assert.equal((resource.contents[0] as { text: string }).text, 'to stderr')
  })

  test('gives each client its own session id; an unknown one is 404, and DELETE ends a session', async () => {
    const other = await connect(server)
    assert.ok(transport.sessionId)
    assert.ok(other.transport.sessionId)
    assert.notEqual(transport.sessionId, other.transport.sessionId)
    const sessionId = other.transport.sessionId
    await other.transport.terminateSession()
    await other.client.close()
    const gone = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: { 'x-api-key': server.key, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sessionId as string },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    })
    assert.equal(gone.status, 404)
    assert.equal((await gone.json() as { code: string }).code, 'MCP_SESSION_NOT_FOUND')
  })

  test('refuses a request without the key with 401 in the catalogue shape, before any MCP message', async () => {
    const response = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }),
    })
    assert.equal(response.status, 401)
    assert.deepEqual(await response.json(), { error: 'invalid or missing API key', code: 'UNAUTHORIZED' })
    await assert.rejects(connect(server, { 'x-api-key': 'wrong' }))
  })

  test('accepts the key as a Bearer token', async () => {
    const bearer = await connect(server, { authorization: `Bearer ${server.key}` })
    assert.equal((await bearer.client.listTools()).tools.length, TOOL_COUNT)
    await bearer.transport.terminateSession()
    await bearer.client.close()
  })

  test('the server\'s own origin is allowed and gets a session', async () => {
    const origin = server.url
    const response = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: { 'x-api-key': server.key, origin, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'web', version: '1' } } }),
    })
    await response.text()
    assert.equal(response.status, 200)
    assert.ok(response.headers.get('mcp-session-id'))
    await fetch(`${server.url}/mcp`, { method: 'DELETE', headers: { 'x-api-key': server.key, 'mcp-session-id': response.headers.get('mcp-session-id') as string } })
  })

  test('refuses a foreign Origin with 403', async () => {
    const response = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: { 'x-api-key': server.key, origin: 'https://evil.example', 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: '{}',
    })
    assert.equal(response.status, 403)
    assert.equal((await response.json() as { code: string }).code, 'ORIGIN_NOT_ALLOWED')
  })

  test('answers malformed JSON and a non-JSON-RPC body with a JSON-RPC parse error, and lives on', async () => {
    for (const body of ['{not json', '{"hello": 1}']) {
      const response = await fetch(`${server.url}/mcp`, {
        method: 'POST',
        headers: { 'x-api-key': server.key, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': transport.sessionId as string },
        body,
      })
      assert.equal(response.status, 400)
      const answer = await response.json() as { jsonrpc: string, error: { code: number } }
      assert.equal(answer.jsonrpc, '2.0')
      assert.equal(answer.error.code, -32700)
    }
    assert.equal((await client.listTools()).tools.length, TOOL_COUNT)
  })

  test('a client that lost an SSE stream resumes it with Last-Event-ID and gets the events it missed', async () => {
    const headers = { 'x-api-key': server.key, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }
    const init = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
    })
    await init.text()
    const session = { ...headers, 'mcp-session-id': init.headers.get('mcp-session-id') as string, 'mcp-protocol-version': '2025-06-18' }
    await (await fetch(`${server.url}/mcp`, { method: 'POST', headers: session, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })).text()
    const tool = (id: number, command: string): object => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'run_command', arguments: { command } } })
    const stream = await (await fetch(`${server.url}/mcp`, { method: 'POST', headers: session, body: JSON.stringify([tool(2, 'echo first'), tool(3, 'echo second')]) })).text()
    // Why by event: the two jobs run at once, so either result may come first.
    const events = [...stream.matchAll(/^id: ?(\S+)\ndata: ?(.+)$/gm)].map((m) => ({ id: m[1] as string, data: m[2] as string }))
    assert.equal(events.length, 2)
    const [missedFrom, missed] = events as [{ id: string, data: string }, { id: string, data: string }]
    const resumed = await fetch(`${server.url}/mcp`, { method: 'GET', headers: { ...session, accept: 'text/event-stream', 'last-event-id': missedFrom.id } })
    assert.equal(resumed.status, 200)
    const reader = (resumed.body as ReadableStream<Uint8Array>).getReader()
    let replayed = ''
    while (!replayed.includes(missed.data)) {
      const { value, done } = await reader.read()
      if (done) break
      replayed += Buffer.from(value).toString()
    }
    await reader.cancel()
    assert.match(replayed, new RegExp(`^id: ?${missed.id}$`, 'm'))
    assert.ok(!replayed.includes(missedFrom.data), 'the event before Last-Event-ID is not replayed')
    await fetch(`${server.url}/mcp`, { method: 'DELETE', headers: session })
  })

  test('a request without a session id that is not initialize is refused by the SDK', async () => {
    const response = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: { 'x-api-key': server.key, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    })
    assert.equal(response.status, 400)
    assert.equal((await response.json() as { jsonrpc: string }).jsonrpc, '2.0')
  })
})
