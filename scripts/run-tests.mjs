#!/usr/bin/env node
// Runs every test file under test/ (or the ones given) with node:test through tsx.
// Why: Node 20's --test neither expands globs nor finds .ts files by itself.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

function findTests (dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return findTests(path)
    return entry.name.endsWith('.test.ts') ? [path] : []
  })
}

const files = process.argv.length > 2 ? process.argv.slice(2) : findTests('test').sort()
// Why: the login shells that terminal tests start read the user's profile; a machine's own
// (pyenv's `rehash` waiting 60 s on a lock a killed shell left, say) must not decide the result.
const home = mkdtempSync(join(tmpdir(), 'agent-runtime-test-home-'))
const result = spawnSync(process.execPath, [
  '--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=180000', ...files,
], { stdio: 'inherit', env: { ...process.env, HOME: home } })
rmSync(home, { recursive: true, force: true })
process.exit(result.status ?? 1)
