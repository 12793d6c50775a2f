import assert from 'node:assert/strict'
import { readFileSync, rmSync } from 'node:fs'
import { request } from 'node:https'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import { spawnServer } from '../helpers/cli-process.js'
import { makeStateDir } from '../helpers/server.js'

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/tls/${name}`, import.meta.url))

function getJson (url: string, headers: Record<string, string>): Promise<{ status: number, body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, ca: readFileSync(fixture('cert.pem')) }, (res) => {
      let text = ''
      res.on('data', (d: Buffer) => { text += d.toString() })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }))
    })
    req.on('error', reject)
    req.end()
  })
}

test('--tls-cert and --tls-key serve the API over HTTPS', async () => {
  const dir = makeStateDir()
  const server = await spawnServer(dir, ['--tls-cert', fixture('cert.pem'), '--tls-key', fixture('key.pem')])
  try {
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/)
    const health = await getJson(`${server.url}/health`, { 'x-api-key': server.key })
    assert.equal(health.status, 200)
    assert.equal(health.body.authenticated, true)
  } finally {
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})
