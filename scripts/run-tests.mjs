#!/usr/bin/env node
// Runs every test file under test/ (or the ones given) with node:test through tsx.
// Why: Node 20's --test neither expands globs nor finds .ts files by itself.
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'

function findTests (dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return findTests(path)
    return entry.name.endsWith('.test.ts') ? [path] : []
  })
}

const files = process.argv.length > 2 ? process.argv.slice(2) : findTests('test').sort()
const result = spawnSync(process.execPath, [
  '--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=180000', ...files,
], { stdio: 'inherit' })
process.exit(result.status ?? 1)
