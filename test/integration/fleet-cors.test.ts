import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { once } from 'node:events'
import { after, before, describe, test } from 'node:test'
import { chromium, type Browser } from 'playwright-core'
import { freePort } from '../helpers/net.js'
import { startServer, type TestServer } from '../helpers/server.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

async function preflight (server: TestServer, origin: string, privateNetwork: boolean): Promise<Headers> {
  const response = await fetch(`${server.url}/health`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'GET',
      'access-control-request-headers': 'x-api-key',
      ...(privateNetwork ? { 'access-control-request-private-network': 'true' } : {}),
    },
  })
  await response.arrayBuffer()
  return response.headers
}

describe('a browser dashboard reaching a loopback server', () => {
  let pagePort: number
  let pageOrigin: string
  let server: TestServer
  before(async () => {
    pagePort = await freePort()
    pageOrigin = `http://localhost:${pagePort}`
    server = await startServer({ corsOrigin: [pageOrigin] })
  })
  after(async () => { await server?.close() })

  test('a Private Network Access preflight from an allowed origin is answered with Access-Control-Allow-Private-Network: true', async () => {
    const headers = await preflight(server, pageOrigin, true)
    assert.equal(headers.get('access-control-allow-private-network'), 'true')
    assert.equal(headers.get('access-control-allow-origin'), pageOrigin)
    const vary = (headers.get('vary') ?? '').toLowerCase().split(',').map((name) => name.trim())
    assert.ok(vary.includes('origin') && vary.includes('access-control-request-private-network'), `vary: ${headers.get('vary')}`)
  })

  test('other origins, and preflights that do not ask for it, get no Private Network Access header', async () => {
    assert.equal((await preflight(server, 'https://evil.example.com', true)).get('access-control-allow-private-network'), null)
    const plain = await preflight(server, pageOrigin, false)
    assert.equal(plain.get('access-control-allow-private-network'), null)
    assert.match(plain.get('vary') ?? '', /access-control-request-private-network/i, 'the answer without it varies on it too')
  })

  test('a real Chromium page on another loopback origin calls the API with the key', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing` }, async () => {
    const page: Server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>dashboard</title>')
    })
    page.listen(pagePort, '127.0.0.1')
    await once(page, 'listening')
    let browser: Browser | undefined
    try {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] })
      const tab = await browser.newPage()
      await tab.goto(pageOrigin)
      const answer = await tab.evaluate(async ([url, key]) => {
        const response = await fetch(`${url}/health`, { headers: { 'X-API-Key': key as string } })
        return { status: response.status, body: await response.json() as { authenticated: boolean } }
      }, [server.url, server.key])
      assert.deepEqual([answer.status, answer.body.authenticated], [200, true])
      // The same page from an origin that is not allowed: the browser blocks the call.
      const otherPort = await freePort()
      const other = createServer((_request, response) => { response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html>') })
      other.listen(otherPort, '127.0.0.1')
      await once(other, 'listening')
      try {
        await tab.goto(`http://localhost:${otherPort}`)
        const outcome = await tab.evaluate(async ([url, key]) => {
          try { await fetch(`${url}/health`, { headers: { 'X-API-Key': key as string } }); return 'answered' } catch { return 'blocked' }
        }, [server.url, server.key])
        assert.equal(outcome, 'blocked')
      } finally {
        other.close()
      }
    } finally {
      await browser?.close()
      page.close()
    }
  })
})
