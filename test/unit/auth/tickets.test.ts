import assert from 'node:assert/strict'
import { test } from 'node:test'
import { TICKET_TTL_MS, TicketStore } from '../../../src/auth/tickets.js'

test('a ticket is valid once, within 30 s', () => {
  const store = new TicketStore()
  const { ticket, expiresInSeconds } = store.issue(1000)
  assert.equal(expiresInSeconds, 30)
  assert.equal(store.consume(ticket, 1000 + TICKET_TTL_MS - 1), true)
  assert.equal(store.consume(ticket, 1000 + 1), false, 'used once already')
})

test('an expired, unknown or missing ticket is refused', () => {
  const store = new TicketStore()
  const { ticket } = store.issue(1000)
  assert.equal(store.consume(ticket, 1000 + TICKET_TTL_MS), false)
  assert.equal(store.consume('made-up', 1000), false)
  assert.equal(store.consume(undefined), false)
  assert.equal(store.consume(''), false)
})
