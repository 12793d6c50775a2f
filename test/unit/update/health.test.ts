import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer } from 'node:http'
import { test } from 'node:test'
import Fastify from 'fastify'
import { waitForHealthy } from '../../../src/update/health.js'
import { UpdateCoordinator } from '../../../src/update/coordinator.js'
import { registerUpdateRoutes } from '../../../src/update/routes.js'

test('a health deadline above 2^31-1 ms keeps polling until the server answers 200', async () => {
  let requests = 0
  const server = createServer((_request, response) => {
    requests++
    response.writeHead(requests < 3 ? 503 : 200).end()
  }).listen(0, '127.0.0.1')
  await once(server, 'listening')
  try {
    const address = server.address()
    const port = typeof address === 'object' && address !== null ? address.port : 0
    assert.equal(await waitForHealthy(`http://127.0.0.1:${port}/health`, 2 ** 31 + 1000, new AbortController().signal), true)
    assert.equal(requests, 3)
  } finally {
    server.close()
  }
})

test('POST /update refuses a drain above 3600 s, so the drain wait stays far below the timer limit', async () => {
  const app = Fastify()
  const coordinator = new UpdateCoordinator()
  let restarts = 0
  registerUpdateRoutes(app, coordinator, () => { restarts++ })
  try {
    for (const drain of [3601, 2 ** 31, 1e300]) {
      const response = await app.inject({ method: 'POST', url: '/update', payload: { drain } })
      assert.equal(response.statusCode, 400, `drain ${drain}`)
    }
    assert.equal(coordinator.draining, false)
    assert.equal((await app.inject({ method: 'POST', url: '/update', payload: { drain: 3600 } })).statusCode, 200)
    assert.equal(restarts, 1)
  } finally {
    await app.close()
  }
})
