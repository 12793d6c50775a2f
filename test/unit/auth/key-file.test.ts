import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { KEY_FILE_NAME, readKeyFile } from '../../../src/auth/key-store.js'
import { resolveCredentials } from '../../../src/commands/credentials.js'

const LOCAL = { url: 'http://127.0.0.1:8585' }

test('the key file is read once for the server and the client: trimmed, missing or empty is no key; an unreadable file fails only for the server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'key-file-'))
  try {
    assert.equal(readKeyFile(dir), undefined)
    assert.equal(resolveCredentials(LOCAL, {}, dir).apiKey, undefined)
    writeFileSync(join(dir, KEY_FILE_NAME), '  \n')
    assert.equal(readKeyFile(dir), undefined)
    writeFileSync(join(dir, KEY_FILE_NAME), 'the-key\n')
    assert.equal(readKeyFile(dir), 'the-key')
    assert.equal(resolveCredentials(LOCAL, {}, dir).apiKey, 'the-key')
    rmSync(join(dir, KEY_FILE_NAME))
    mkdirSync(join(dir, KEY_FILE_NAME))
    assert.throws(() => readKeyFile(dir), { code: 'EISDIR' })
    assert.equal(resolveCredentials(LOCAL, {}, dir).apiKey, undefined)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
