#!/usr/bin/env node
// The ceiling of the files benchmark: a bare Node `http` server (no framework, no auth, no path
// checks) that moves file bytes the way src/files does — downloads as a file read stream with
// 1 MiB chunks, uploads into a temp file with a 1 MiB write buffer, fsync, rename. Whatever our
// server loses against it is ours; what it loses against `cp` is HTTP and Node's streams.
// Usage: node bare-file-server.mjs ROOT; prints the port on stdout.
import { createReadStream, createWriteStream, statSync } from 'node:fs'
import { open, rename } from 'node:fs/promises'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'

const MiB = 1024 * 1024
const root = process.argv[2]

async function upload (req, path) {
  const temp = `${path}.upload`
  const handle = await open(temp, 'w')
  try {
    await pipeline(req, createWriteStream('', { fd: handle.fd, autoClose: false, highWaterMark: MiB }))
    await handle.sync()
  } finally { await handle.close() }
  await rename(temp, path)
}

const server = createServer((req, res) => {
  const name = new URL(req.url, 'http://x').searchParams.get('path') ?? ''
  const path = join(root, name)
  const fail = (err) => { if (!res.headersSent) res.writeHead(500); res.end(String(err)) }
  if (req.method === 'GET') {
    const size = statSync(path).size
    res.writeHead(200, { 'content-length': size, 'content-type': 'application/octet-stream' })
    pipeline(createReadStream(path, { highWaterMark: MiB }), res).catch(fail)
    return
  }
  if (req.method === 'PUT') {
    upload(req, path).then(() => { res.writeHead(201); res.end() }, fail)
    return
  }
  res.writeHead(405)
  res.end()
})
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`))
process.on('SIGTERM', () => process.exit(0))
