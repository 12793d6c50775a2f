#!/usr/bin/env node
// Builds native/launcher (the job launcher) with node-gyp, like node-pty's native part.
// Why it never fails the install or the build: without the launcher the server still works,
// starting jobs through Node's spawn, and says so once at start (docs/operations.md).
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dir = join(root, 'native', 'launcher')

// node-gyp as npm runs it for install scripts, else the copy bundled with npm next to this Node.
function nodeGyp () {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp
  const bundled = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')
  return existsSync(bundled) ? bundled : undefined
}

if (process.platform === 'win32') {
  console.warn('build-launcher: no job launcher on Windows; jobs start through Node\'s spawn')
  process.exit(0)
}
const gyp = nodeGyp()
const result = gyp
  ? spawnSync(process.execPath, [gyp, 'rebuild'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' })
  : { status: 1, stderr: 'node-gyp not found' }
if (result.status !== 0) {
  console.warn(`build-launcher: the job launcher could not be built; the server will start jobs through Node's spawn (slower).\n${result.stderr ?? ''}`.trimEnd())
} else {
  console.log('build-launcher: built native/launcher/build/Release/agent-launcher')
}
