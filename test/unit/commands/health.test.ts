import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Health } from '../../../src/client/index.js'
import { formatHealth } from '../../../src/commands/health.js'

const base: Health = {
  status: 'ok',
  authenticated: true,
  version: '1.2.3',
  hostname: 'box',
  pid: 7,
  uptimeSeconds: 90,
  jobs: 3,
  queue: { running: 1, pending: 0, maxConcurrent: 4, maxPending: 100 },
  execution_modes: ['shell', 'acp'],
  cwd: '/srv',
}

test('health names the state directory: ok with its free space, or full with the ends not saved yet', () => {
  const ok = formatHealth({ ...base, storage: { state: 'ok', freeBytes: 5 * 1024 ** 3, unsavedJobs: 0 } }, 'http://x')
  assert.match(ok, /^state directory: ok, 5\.0 GiB free$/m)
  const full = formatHealth({ ...base, storage: { state: 'full', freeBytes: 512 * 1024, unsavedJobs: 2 } }, 'http://x')
  assert.match(full, /^state directory: FULL, new jobs are refused, 0\.5 MiB free; 2 job end\(s\) not saved yet$/m)
  const readOnly = formatHealth({ ...base, storage: { state: 'read-only', freeBytes: null, unsavedJobs: 0 } }, 'http://x')
  assert.match(readOnly, /^state directory: READ-ONLY, new jobs are refused, free space unknown$/m)
})

test('an older server without storage in its health gets no state directory line', () => {
  assert.doesNotMatch(formatHealth(base, 'http://x'), /state directory/)
})
