import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { Ajv, type ValidateFunction } from 'ajv'
import { agentArgv, assertNoProcesses, marker, SCRIPTED_AGENT } from '../helpers/acp.js'
import { startServer, type ApiResponse, type TestServer } from '../helpers/server.js'
import { collectEvents } from '../helpers/sse.js'
import { waitFor } from '../helpers/wait.js'

type Operation = { responses: Record<string, { content?: Record<string, { schema: object }> }> }
type OpenApi = { openapi: string, paths: Record<string, Record<string, Operation>>, components: { schemas: Record<string, object> } }

/** Every method and path the app answers, read from Fastify's route tree (HEAD, CORS preflights and the UI's files under /docs/* left out). */
function registeredRoutes (tree: string): string[] {
  const routes: string[] = []
  const prefixes: string[] = []
  for (const line of tree.split('\n')) {
    const match = /^([│ ]*)[├└]── (\S+) \(([^)]+)\)/.exec(line)
    if (!match) continue
    const depth = match[1]!.length / 4
    prefixes[depth] = (depth === 0 ? '' : prefixes[depth - 1]) + match[2]!
    prefixes.length = depth + 1
    const raw = prefixes[depth]!
    // Why: the document names a wildcard `{*}` (GET /sessions/{*}); the tree prints it as a bare `*`.
    const path = raw.replace(/:(\w+)/g, '{$1}').replace(/\/?\*$/, '/{*}')
    for (const method of match[3]!.split(', ')) {
      if (method !== 'HEAD' && method !== 'OPTIONS' && !/^\/docs\/?\*$/.test(raw)) routes.push(`${method} ${path}`)
    }
  }
  return routes.sort()
}

describe('the OpenAPI document', () => {
  let server: TestServer
  let doc: OpenApi
  const ajv = new Ajv({ strict: false, allErrors: true })
  const validators = new Map<object, ValidateFunction>()
  before(async () => {
    server = await startServer({ maxConcurrentJobs: '4' })
    doc = (await server.api('GET', '/openapi.json', undefined, { 'x-api-key': '' })).body
    for (const [name, schema] of Object.entries(doc.components.schemas)) ajv.addSchema(schema, `#/components/schemas/${name}`)
  })
  after(async () => { await server?.close() })

  /** Asserts that `response` is what the document says `METHOD path` answers with that status. */
  const conforms = (method: string, path: string, response: ApiResponse, type = 'application/json'): void => {
    const responses = doc.paths[path]?.[method.toLowerCase()]?.responses
    assert.ok(responses, `${method} ${path} is in the document`)
    const documented = responses[String(response.status)] ?? responses[`${String(response.status)[0]}XX`]
    assert.ok(documented, `${method} ${path} documents status ${response.status}`)
    const schema = documented.content?.[type]?.schema
    assert.ok(schema, `${method} ${path} documents a ${type} body for ${response.status}`)
    let validate = validators.get(schema)
    if (!validate) validators.set(schema, validate = ajv.compile(schema))
    assert.ok(validate(response.body), `${method} ${path} ${response.status}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(response.body)}`)
  }

  /** Asserts that a byte answer's status and content type are documented for `METHOD path` (its body is read). */
  const conformsBytes = (method: string, path: string, response: Response): void => {
    const responses = doc.paths[path]?.[method.toLowerCase()]?.responses
    assert.ok(responses, `${method} ${path} is in the document`)
    const documented = responses[String(response.status)]
    assert.ok(documented, `${method} ${path} documents status ${response.status}`)
    const type = (response.headers.get('content-type') ?? '').split(';')[0]!
    assert.ok(documented.content?.[type], `${method} ${path} documents a ${type} body for ${response.status}`)
  }

  /** Asserts that `METHOD path` documents this status as an answer without a body, and that it had none. */
  const conformsEmpty = async (method: string, path: string, response: Response): Promise<void> => {
    const documented = doc.paths[path]?.[method.toLowerCase()]?.responses[String(response.status)]
    assert.ok(documented, `${method} ${path} documents status ${response.status}`)
    assert.equal(documented.content, undefined, `${method} ${path} ${response.status} documents no body`)
    assert.equal((await response.arrayBuffer()).byteLength, 0)
  }

  test('is OpenAPI 3.1, served without a key, and browsable at /docs from local files', async () => {
    assert.equal(doc.openapi, '3.1.0')
    const page = await fetch(`${server.url}/docs`)
    assert.equal(page.status, 200)
    const html = await page.text()
    assert.match(html, /swagger-ui-bundle\.js/)
    assert.doesNotMatch(html, /https?:\/\//, 'no asset comes from another host')
    const bundle = await fetch(`${server.url}/docs/static/swagger-ui-bundle.js`)
    assert.equal(bundle.status, 200)
    assert.match(bundle.headers.get('content-type') ?? '', /javascript/)
    await bundle.arrayBuffer()
    const spec = await fetch(`${server.url}/docs/json`)
    assert.deepEqual(await spec.json(), doc)
  })

  test('lists every route the server answers, and only those', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`)).sort()
    assert.deepEqual(documented, registeredRoutes(server.app.printRoutes({ commonPrefix: false })))
  })

  test('health, with and without a key, is what the document says', async () => {
    conforms('GET', '/health', await server.api('GET', '/health'))
    conforms('GET', '/health', await server.api('GET', '/health', undefined, { 'x-api-key': 'wrong' }))
  })

  test('a shell job, its list, its answers and its events are what the document says', async () => {
    const submitted = await server.api('POST', '/exec', { command: 'echo out; echo err >&2; exit 3' }, { 'idempotency-key': 'contract-1' })
    conforms('POST', '/exec', submitted)
    assert.equal(submitted.status, 202)
    const id = submitted.body.jobId as string
    const again = await server.api('POST', '/exec', { command: 'echo out' }, { 'idempotency-key': 'contract-1' })
    assert.equal(again.status, 200)
    conforms('POST', '/exec', again)
    const waited = await server.api('POST', '/exec?wait=10', { command: 'echo waited' })
    assert.equal(waited.status, 200)
    conforms('POST', '/exec', waited)
    const stillRunning = await server.api('POST', '/exec?wait=0', { command: 'sleep 0.2' })
    assert.equal(stillRunning.status, 202)
    conforms('POST', '/exec', stillRunning)
    await server.finished(id)
    conforms('GET', '/jobs/{id}', await server.api('GET', `/jobs/${id}`))
    conforms('GET', '/jobs/{id}', await server.api('GET', `/jobs/${id}?stdoutOffset=1&tailLines=1`))
    conforms('GET', '/jobs', await server.api('GET', '/jobs'))
    conforms('POST', '/jobs/{id}/nudge', await server.api('POST', `/jobs/${id}/nudge`))
    conforms('POST', '/jobs/{id}/kill', await server.api('POST', `/jobs/${id}/kill`))
    conforms('DELETE', '/jobs/{id}', await server.api('DELETE', `/jobs/${id}`))
    const bytes = await fetch(`${server.url}/jobs/${id}/stdout`, { headers: { 'x-api-key': server.key, range: 'bytes=0-1' } })
    assert.equal(bytes.status, 206)
    assert.ok(doc.paths['/jobs/{id}/stdout']!.get!.responses['206']!.content!['application/octet-stream'])
    const events = await collectEvents(`${server.url}/jobs/${id}/events`, server.key)
    assert.ok(events.length >= 4)
    const validate = ajv.compile({ $ref: '#/components/schemas/JobEvent' })
    for (const event of events) assert.ok(validate(event), `${JSON.stringify(event)}: ${ajv.errorsText(validate.errors)}`)

    const running = await server.submit({ command: 'cat', stdin: 'a' })
    conforms('POST', '/jobs/{id}/stdin', await server.api('POST', `/jobs/${running}/stdin`, { data: 'b', eof: true }))
    await server.finished(running)
  })

  test('an ACP job, with its extra keys, is what the document says', async () => {
    const agent = agentArgv(SCRIPTED_AGENT, marker()).map((a) => `'${a}'`).join(' ')
    const prompt = JSON.stringify([{ say: 'hello' }, { tool: { toolCallId: 't1', title: 'Think', kind: 'think', status: 'completed' } }])
    const id = await server.submit({ mode: 'acp', agent, prompt })
    const job = await server.finished(id)
    assert.equal(job.mode, 'acp')
    assert.ok(job.events.length > 0)
    conforms('GET', '/jobs/{id}', await server.api('GET', `/jobs/${id}`))
    conforms('POST', '/jobs/{id}/permission', await server.api('POST', `/jobs/${id}/permission`, { requestId: 'none', optionId: 'allow' }))
  })

  test('terminal answers are what the document says', async () => {
    conforms('POST', '/terminal/tickets', await server.api('POST', '/terminal/tickets'))
    conforms('GET', '/terminals', await server.api('GET', '/terminals'))
    conforms('DELETE', '/terminals/{id}', await server.api('DELETE', '/terminals/nope'))
  })

  test('errors 400, 401, 404, 409 and 429 are what the document says', async () => {
    const bad = await server.api('GET', '/jobs?limit=0')
    assert.equal(bad.status, 400)
    conforms('GET', '/jobs', bad)
    const noKey = await server.api('GET', '/jobs', undefined, { 'x-api-key': '' })
    assert.equal(noKey.status, 401)
    conforms('GET', '/jobs', noKey)
    const missing = await server.api('GET', '/jobs/nope')
    assert.equal(missing.status, 404)
    conforms('GET', '/jobs/{id}', missing)
    const shell = await server.submit({ command: 'true' })
    const notAcp = await server.api('POST', `/jobs/${shell}/permission`, { requestId: 'r', optionId: 'o' })
    assert.equal(notAcp.status, 409)
    conforms('POST', '/jobs/{id}/permission', notAcp)
    let limited: ApiResponse | undefined
    for (let i = 0; i < 40 && !limited; i++) {
      const answer = await server.api('GET', '/jobs', undefined, { 'x-api-key': 'wrong' })
      if (answer.status === 429) limited = answer
    }
    assert.ok(limited, 'failed authentications are limited')
    conforms('GET', '/jobs', limited)
  })

  test('a tty job\'s resize is what the document says, and so is its refusal for a job without a terminal', async () => {
    const tty = await server.submit({ command: 'cat', tty: true })
    await waitFor(async () => (await server.api('GET', `/jobs/${tty}`)).body.status === 'running', 'the tty job to run')
    const resized = await server.api('POST', `/jobs/${tty}/resize`, { cols: 100, rows: 30 })
    assert.equal(resized.status, 200)
    conforms('POST', '/jobs/{id}/resize', resized)
    await server.api('POST', `/jobs/${tty}/kill`)
    await server.finished(tty)
    const plain = await server.submit({ command: 'true' })
    await server.finished(plain)
    const refused = await server.api('POST', `/jobs/${plain}/resize`, { cols: 100, rows: 30 })
    assert.equal(refused.status, 409)
    conforms('POST', '/jobs/{id}/resize', refused)
  })

  test('an ACP job\'s transcript is served as the document says', async () => {
    const agent = agentArgv(SCRIPTED_AGENT, marker()).map((a) => `'${a}'`).join(' ')
    const id = await server.submit({ mode: 'acp', agent, prompt: JSON.stringify([{ say: 'hi' }]), transcript: true })
    await server.finished(id)
    const whole = await fetch(`${server.url}/jobs/${id}/transcript`, { headers: { 'x-api-key': server.key } })
    assert.equal(whole.status, 200)
    assert.match(await whole.text(), /"jsonrpc"/)
    conformsBytes('GET', '/jobs/{id}/transcript', whole)
    const tail = await fetch(`${server.url}/jobs/${id}/transcript`, { headers: { 'x-api-key': server.key, range: 'bytes=-10' } })
    assert.equal(tail.status, 206)
    await tail.arrayBuffer()
    conformsBytes('GET', '/jobs/{id}/transcript', tail)
    const missing = await server.api('GET', '/jobs/nope/transcript')
    assert.equal(missing.status, 404)
    conforms('GET', '/jobs/{id}/transcript', missing)
  })

  test('persistent shell sessions: a command, the list, one session and its end are what the document says', async () => {
    const key = 'contract/session'
    const path = `/sessions/${encodeURIComponent(key)}`
    // Why finally: a failed assertion must not leave the session's shell behind the server.
    try {
      const submitted = await server.api('POST', '/exec', { mode: 'persistent_shell', sessionKey: key, shell: 'sh', command: 'cd /; X=1; echo hi' })
      assert.equal(submitted.status, 202)
      conforms('POST', '/exec', submitted)
      const done = await server.finished(submitted.body.jobId)
      assert.equal(done.stdout, 'hi\n')
      conforms('GET', '/jobs/{id}', await server.api('GET', `/jobs/${submitted.body.jobId as string}`))
      conforms('GET', '/sessions/{*}', await server.api('GET', path))
      const busy = await server.submit({ mode: 'persistent_shell', sessionKey: key, shell: 'sh', command: 'sleep 60' })
      const queued = await server.submit({ mode: 'persistent_shell', sessionKey: key, shell: 'sh', command: 'echo queued' })
      const running = await waitFor(async () => {
        const answer = await server.api('GET', path)
        return answer.body.jobId === busy ? answer : undefined
      }, 'the session to run sleep 60')
      assert.deepEqual(running.body.queuedJobIds, [], 'the next command waits as a pending job, not in the session')
      const pending = await server.api('GET', `/jobs/${queued}`)
      assert.equal(pending.body.status, 'pending')
      conforms('GET', '/jobs/{id}', pending)
      conforms('GET', '/sessions/{*}', running)
      const list = await server.api('GET', '/sessions')
      assert.ok(list.body.some((s: { sessionKey: string }) => s.sessionKey === key))
      conforms('GET', '/sessions', list)
      conforms('POST', '/jobs/{id}/nudge', await server.api('POST', `/jobs/${busy}/nudge`))
      conforms('POST', '/jobs/{id}/kill', await server.api('POST', `/jobs/${busy}/kill`))
      await server.finished(busy)
      await server.finished(queued)
      const deleted = await server.api('DELETE', path)
      assert.equal(deleted.status, 200)
      conforms('DELETE', '/sessions/{*}', deleted)
      const gone = await server.api('GET', path)
      assert.equal(gone.status, 404)
      conforms('GET', '/sessions/{*}', gone)
      conforms('DELETE', '/sessions/{*}', await server.api('DELETE', path))
    } finally {
      await server.api('DELETE', path)
    }
  })

  test('warm ACP sessions: create, list, one, a prompt, its history and the close are what the document says', async () => {
    const m = marker()
    const agent = agentArgv(SCRIPTED_AGENT, m).map((a) => `'${a}'`).join(' ')
    const created = await server.api('POST', '/acp/sessions', { agent, workdir: tmpdir(), permissionPolicy: 'allow-all' })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    conforms('POST', '/acp/sessions', created)
    const id = created.body.id as string
    conforms('GET', '/acp/sessions', await server.api('GET', '/acp/sessions'))
    const prompted = await server.api('POST', `/acp/sessions/${id}/prompts`, { prompt: JSON.stringify([{ say: 'one' }]) })
    assert.equal(prompted.status, 202)
    conforms('POST', '/acp/sessions/{id}/prompts', prompted)
    await server.finished(prompted.body.jobId)
    conforms('GET', '/jobs/{id}', await server.api('GET', `/jobs/${prompted.body.jobId as string}`))
    conforms('GET', '/acp/sessions/{id}', await server.api('GET', `/acp/sessions/${id}`))
    conforms('GET', '/acp/sessions/{id}/history', await server.api('GET', `/acp/sessions/${id}/history`))
    const closed = await server.api('DELETE', `/acp/sessions/${id}`)
    assert.equal(closed.status, 200)
    conforms('DELETE', '/acp/sessions/{id}', closed)
    await assertNoProcesses(m)
    const missing = await server.api('GET', '/acp/sessions/nope')
    assert.equal(missing.status, 404)
    conforms('GET', '/acp/sessions/{id}', missing)
    const refused = await server.api('POST', `/acp/sessions/${id}/prompts`, { prompt: 'late' })
    assert.ok(refused.status >= 400, JSON.stringify(refused.body))
    conforms('POST', '/acp/sessions/{id}/prompts', refused)
  })

  test('files: stat (file, directory, symlink), list, move, mkdir, upload, download, tar, delete and their errors are what the document says', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'contract-files-'))
    try {
      writeFileSync(join(dir, 'a.txt'), 'a')
      mkdirSync(join(dir, 'sub'))
      writeFileSync(join(dir, 'sub', 'b.txt'), 'bb')
      symlinkSync('a.txt', join(dir, 'link'))
      const q = (path: string): string => `?path=${encodeURIComponent(path)}`
      for (const name of ['a.txt', 'sub', 'link']) {
        const stat = await server.api('GET', `/files/stat${q(join(dir, name))}`)
        assert.equal(stat.status, 200)
        conforms('GET', '/files/stat', stat)
      }
      const list = await server.api('GET', `/files/list${q(dir)}&recursive=1`)
      assert.equal(list.body.entries.length, 4)
      conforms('GET', '/files/list', list)
      const cut = await server.api('GET', `/files/list${q(dir)}&limit=1`)
      assert.equal(cut.body.truncated, true)
      conforms('GET', '/files/list', cut)
      const made = await server.api('POST', '/files/mkdir', { path: join(dir, 'new') })
      assert.equal(made.status, 201)
      conforms('POST', '/files/mkdir', made)
      const again = await server.api('POST', '/files/mkdir', { path: join(dir, 'new') })
      assert.equal(again.status, 200)
      conforms('POST', '/files/mkdir', again)
      const moved = await server.api('POST', '/files/move', { from: join(dir, 'a.txt'), to: join(dir, 'new', 'a.txt') })
      assert.equal(moved.status, 200)
      conforms('POST', '/files/move', moved)
      const missing = await server.api('GET', `/files/stat${q(join(dir, 'nope'))}`)
      assert.equal(missing.status, 404)
      conforms('GET', '/files/stat', missing)
      const notDir = await server.api('GET', `/files/list${q(join(dir, 'sub', 'b.txt'))}`)
      assert.equal(notDir.status, 409)
      conforms('GET', '/files/list', notDir)

      const files = (method: string, query: string, init: { body?: BodyInit, headers?: Record<string, string> } = {}): Promise<Response> =>
        fetch(`${server.url}/files${query}`, { method, ...init, headers: { 'x-api-key': server.key, ...init.headers } })
      const upload = join(dir, 'up.txt')
      const created = await files('PUT', q(upload), { body: 'one' })
      assert.equal(created.status, 201)
      await conformsEmpty('PUT', '/files', created)
      const replaced = await files('PUT', q(upload), { body: 'two' })
      assert.equal(replaced.status, 204)
      await conformsEmpty('PUT', '/files', replaced)
      const whole = await files('GET', q(upload))
      assert.equal(await whole.text(), 'two')
      conformsBytes('GET', '/files', whole)
      const part = await files('GET', q(upload), { headers: { range: 'bytes=1-' } })
      assert.equal(await part.text(), 'wo')
      conformsBytes('GET', '/files', part)
      const same = await files('GET', q(upload), { headers: { 'if-none-match': whole.headers.get('etag')! } })
      assert.equal(same.status, 304)
      await conformsEmpty('GET', '/files', same)
      const tar = await files('GET', `${q(join(dir, 'sub'))}&format=tar`)
      assert.equal(tar.status, 200)
      conformsBytes('GET', '/files', tar)
      const extracting = await files('PUT', `${q(join(dir, 'copy'))}&extract=1&mkdir=1`, { body: await tar.arrayBuffer(), headers: { 'content-type': 'application/x-tar' } })
      const extracted = { status: extracting.status, headers: extracting.headers, body: await extracting.json() }
      assert.equal(extracted.status, 200, JSON.stringify(extracted.body))
      assert.equal(extracted.body.entries, 2)
      conforms('PUT', '/files', extracted)
      const deleted = await files('DELETE', `${q(join(dir, 'copy'))}&recursive=1`)
      assert.equal(deleted.status, 204)
      await conformsEmpty('DELETE', '/files', deleted)
      const beyond = await server.api('GET', `/files${q(upload)}`, undefined, { range: 'bytes=10-' })
      assert.equal(beyond.status, 416)
      conforms('GET', '/files', beyond)
      const directory = await server.api('GET', `/files${q(dir)}`)
      assert.equal(directory.status, 400)
      conforms('GET', '/files', directory)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('POST /update: 409 while work would be lost, then 200, then 503 for the rest', async () => {
    const agent = agentArgv(SCRIPTED_AGENT, marker()).map((a) => `'${a}'`).join(' ')
    const id = await server.submit({ mode: 'acp', agent, prompt: JSON.stringify([{ sleep: 60_000 }]) })
    await waitFor(async () => (await server.api('GET', `/jobs/${id}`)).body.acpSessionId ?? undefined, 'the ACP job to run')
    const refused = await server.api('POST', '/update')
    assert.equal(refused.status, 409)
    conforms('POST', '/update', refused)
    await server.api('POST', `/jobs/${id}/kill`)
    await server.finished(id)
    const accepted = await server.api('POST', '/update')
    assert.equal(accepted.status, 200)
    conforms('POST', '/update', accepted)
    const draining = await server.api('GET', '/jobs')
    assert.equal(draining.status, 503)
    conforms('GET', '/jobs', draining)
  })
})
