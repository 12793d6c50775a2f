import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { CLI_PATH } from '../helpers/cli-process.js'
import { startServer, type TestServer } from '../helpers/server.js'

type ToolAnswer = { isError?: boolean, structuredContent?: any, content: Array<{ type: string, text?: string }> }

async function launch (server: TestServer, key: string, env: Record<string, string> = {}): Promise<{ client: Client, transport: StdioClientTransport }> {
  const saved = 'AGENT_RUNTIME_CONFIG' in env
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', 'tsx', CLI_PATH, 'mcp', '--stdio', ...(saved ? [] : ['--url', server.url])],
    env: { ...process.env as Record<string, string>, AGENT_RUNTIME_API_KEY: key, ...env },
    stderr: 'pipe',
  })
  const client = new Client({ name: 'mcp-stdio-test', version: '1.0.0' })
  await client.connect(transport)
  return { client, transport }
}

const call = async (client: Client, name: string, args: Record<string, unknown>): Promise<ToolAnswer> =>
  await client.callTool({ name, arguments: args }) as ToolAnswer

describe('agent-server mcp --stdio', () => {
  let server: TestServer
  let client: Client
  let dir: string

  before(async () => {
    server = await startServer()
    dir = mkdtempSync(join(tmpdir(), 'mcp-stdio-'))
    ;({ client } = await launch(server, server.key))
  })
  after(async () => {
    await client.close()
    // Why: session shells outlive the server by design (a restarted server re-adopts them).
    for (const s of (await server.api('GET', '/sessions')).body as Array<{ sessionKey: string }>) await server.api('DELETE', `/sessions/${encodeURIComponent(s.sessionKey)}`)
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('lists the same tools as the HTTP endpoint', async () => {
    const { tools } = await client.listTools()
    assert.equal(tools.length, 14)
    assert.ok(tools.some((t) => t.name === 'run_command'))
  })

  test('runs a command on the remote server, and a long one is finished through job_status', async () => {
    const short = await call(client, 'run_command', { command: 'echo remote' })
    assert.equal(short.structuredContent.exitCode, 0)
    assert.equal(short.structuredContent.stdout, 'remote\n')
    const long = await call(client, 'run_command', { command: 'read x; echo "x=$x"', wait_seconds: 0.2 })
    assert.equal(long.structuredContent.running, true)
    const jobId = long.structuredContent.jobId as string
    await call(client, 'job_stdin', { job_id: jobId, data: '7\n', eof: true })
    const done = await call(client, 'job_status', { job_id: jobId, wait_seconds: 20 })
    assert.equal(done.structuredContent.status, 'completed')
    assert.equal(done.structuredContent.stdout, 'x=7\n')
  })

  test('kills a remote job', async () => {
    const answer = await call(client, 'run_command', { command: 'sleep 300', wait_seconds: 0 })
    const jobId = answer.structuredContent.jobId as string
    await call(client, 'job_kill', { job_id: jobId })
    const status = await call(client, 'job_status', { job_id: jobId, wait_seconds: 20 })
    assert.equal(status.structuredContent.status, 'cancelled')
  })

  test('session_run keeps a remote shell\'s state between calls, and list_sessions shows it', async () => {
    const first = await call(client, 'session_run', { session_key: 'stdio', command: `cd ${dir}; COUNT=1`, shell: 'sh' })
    assert.equal(first.structuredContent.status, 'completed', JSON.stringify(first))
    assert.equal(first.structuredContent.cwd, dir)
    const second = await call(client, 'session_run', { session_key: 'stdio', command: 'COUNT=$((COUNT + 1)); echo "$COUNT $(pwd)"' })
    assert.equal(second.structuredContent.stdout, `2 ${dir}\n`)
    const listed = await call(client, 'list_sessions', {})
    assert.deepEqual(listed.structuredContent.sessions.map((s: { sessionKey: string, shell: string }) => [s.sessionKey, s.shell]), [['stdio', 'sh']])
  })

  test('search_files resolves a relative path on the remote server\'s files root', async () => {
    const answer = await call(client, 'search_files', { pattern: 'x', path: 'no-such-dir-here' })
    assert.equal(answer.isError, true)
    assert.match(answer.content[0]?.text ?? '', /^FILE_NOT_FOUND/)
  })

  test('files round trip through the files API', async () => {
    const path = join(dir, 'f.txt')
    await call(client, 'write_file', { path, content: 'a\nb\nc\n' })
    const read = await call(client, 'read_file', { path, start_line: 2, end_line: 2 })
    assert.equal(read.structuredContent.content, 'b')
    assert.equal(read.structuredContent.size, 6)
    const edited = await call(client, 'edit_file', { path, old_string: 'b', new_string: 'B' })
    assert.equal(edited.isError, undefined)
    assert.equal(readFileSync(path, 'utf8'), 'a\nB\nc\n')
    const listing = await call(client, 'list_directory', { path: dir })
    assert.deepEqual(listing.structuredContent.entries.map((e: { name: string }) => e.name), ['f.txt'])
  })

  test('read_file reaches a line range far past the first 256 KiB of a remote file', async () => {
    const bigDir = mkdtempSync(join(tmpdir(), 'mcp-stdio-big-'))
    try {
      const path = join(bigDir, 'numbered.txt')
      writeFileSync(path, Array.from({ length: 20_000 }, (_, i) => `line ${i + 1} ${'x'.repeat(20)}`).join('\n') + '\n')
      const deep = await call(client, 'read_file', { path, start_line: 15_000, end_line: 15_002 })
      assert.equal(deep.isError, undefined, deep.content[0]?.text)
      assert.ok(deep.structuredContent.size > 256 * 1024)
      assert.equal(deep.structuredContent.content, [15_000, 15_001, 15_002].map((n) => `line ${n} ${'x'.repeat(20)}`).join('\n'))
      assert.equal(deep.structuredContent.truncated, false)
    } finally {
      rmSync(bigDir, { recursive: true, force: true })
    }
  })

  test('a wrong key makes each tool call a clear tool error', async () => {
    const wrong = await launch(server, 'not-the-key')
    try {
      const answer = await call(wrong.client, 'run_command', { command: 'true' })
      assert.equal(answer.isError, true)
      assert.match(answer.content[0]?.text ?? '', /UNAUTHORIZED/)
    } finally {
      await wrong.client.close()
    }
  })

  test('finds the server and key in the context saved by agent-server login', async () => {
    const config = join(dir, 'config', 'credentials.json')
    const env = { AGENT_RUNTIME_CONFIG: config, AGENT_RUNTIME_URL: '', AGENT_RUNTIME_HOME: join(dir, 'no-server') }
    const login = spawn(process.execPath, ['--import', 'tsx', CLI_PATH, 'login', '--url', server.url, '--name', 'saved', '--key-stdin'], {
      env: { ...process.env, ...env, AGENT_RUNTIME_API_KEY: '' },
      stdio: ['pipe', 'ignore', 'ignore'],
    })
    login.stdin.end(server.key)
    assert.equal((await once(login, 'exit') as [number | null])[0], 0)
    const fromContext = await launch(server, '', env)
    try {
      const answer = await call(fromContext.client, 'run_command', { command: 'echo saved' })
      assert.equal(answer.structuredContent.stdout, 'saved\n', JSON.stringify(answer))
    } finally {
      await fromContext.client.close()
    }
  })

  test('the process exits when its client closes stdin', async () => {
    const other = await launch(server, server.key)
    const pid = other.transport.pid as number
    await other.client.close()
    assert.throws(() => process.kill(pid, 0))
  })
})
