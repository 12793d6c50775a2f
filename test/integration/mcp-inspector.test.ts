import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, test } from 'node:test'
import { startServer, type TestServer } from '../helpers/server.js'

// The MCP inspector's CLI (a client nobody here wrote), as installed: @modelcontextprotocol/inspector-cli 1.0.3.
const INSPECTOR = fileURLToPath(new URL('../../node_modules/@modelcontextprotocol/inspector-cli/build/cli.js', import.meta.url))

interface Run { code: number, stdout: string, stderr: string }

/** Runs the inspector in CLI mode against `url`; its JSON answer is on stdout. */
async function inspect (url: string, header: string, ...method: string[]): Promise<Run> {
  // Why the URL as an argument: in --cli mode the inspector drops --server-url (only its web mode reads it).
  const args = [INSPECTOR, '--cli', url, '--transport', 'http', '--header', header, ...method]
  return await new Promise((resolve) => {
    // Why this cwd: inspector-cli 1.0.3 tests fs.existsSync('../package.json') against the cwd but
    // imports it relative to its own module; only a cwd whose parent holds a package.json works
    // (upstream: modelcontextprotocol/inspector issues 834 and 1334).
    execFile(process.execPath, args, { cwd: dirname(INSPECTOR), timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })
    })
  })
}

describe('the MCP inspector CLI against /mcp', () => {
  let server: TestServer
  let url: string
  let bearer: string

  before(async () => {
    server = await startServer()
    url = `${server.url}/mcp`
    bearer = `Authorization: Bearer ${server.key}`
  })
  after(async () => {
    for (const s of (await server.api('GET', '/sessions')).body as Array<{ sessionKey: string }>) await server.api('DELETE', `/sessions/${encodeURIComponent(s.sessionKey)}`)
    await server.close()
  })

  test('tools/list prints every tool with its input schema', async () => {
    const run = await inspect(url, bearer, '--method', 'tools/list')
    assert.equal(run.code, 0, run.stderr)
    const { tools } = JSON.parse(run.stdout) as { tools: Array<{ name: string, inputSchema: { type: string, required?: string[] } }> }
    assert.equal(tools.length, 14)
    const runCommand = tools.find((t) => t.name === 'run_command')
    assert.equal(runCommand?.inputSchema.type, 'object')
    assert.deepEqual(runCommand?.inputSchema.required, ['command'])
  })

  test('tools/call run_command prints the structured result of the job', async () => {
    const run = await inspect(url, bearer, '--method', 'tools/call', '--tool-name', 'run_command',
      '--tool-arg', 'command=echo from-inspector; exit 4', '--tool-arg', 'wait_seconds=20')
    assert.equal(run.code, 0, run.stderr)
    const answer = JSON.parse(run.stdout) as { structuredContent: { status: string, exitCode: number, stdout: string, jobId: string }, content: Array<{ text: string }> }
    assert.equal(answer.structuredContent.status, 'failed')
    assert.equal(answer.structuredContent.exitCode, 4)
    assert.equal(answer.structuredContent.stdout, 'from-inspector\n')
    assert.match(answer.content[0]?.text ?? '', /exit code 4/)
    assert.equal((await server.api('GET', `/jobs/${answer.structuredContent.jobId}`)).body.exitCode, 4)
  })

  test('tools/call session_run keeps state between two separate inspector runs', async () => {
    const first = await inspect(url, `X-API-Key: ${server.key}`, '--method', 'tools/call', '--tool-name', 'session_run',
      '--tool-arg', 'session_key=inspector', '--tool-arg', 'command=cd /tmp && V=kept')
    assert.equal(first.code, 0, first.stderr)
    const second = await inspect(url, `X-API-Key: ${server.key}`, '--method', 'tools/call', '--tool-name', 'session_run',
      '--tool-arg', 'session_key=inspector', '--tool-arg', 'command=echo "$V $(pwd)"')
    assert.equal((JSON.parse(second.stdout) as { structuredContent: { stdout: string } }).structuredContent.stdout, 'kept /tmp\n')
  })

  test('a wrong key fails the connection with our 401 body, before any MCP message', async () => {
    const run = await inspect(url, 'Authorization: Bearer wrong', '--method', 'tools/list')
    assert.notEqual(run.code, 0)
    assert.match(run.stderr, /"code":"UNAUTHORIZED"/)
  })
})
