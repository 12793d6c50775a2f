#!/usr/bin/env node
// The floor of our architecture for one job: a Fastify server (no auth, no records, no files)
// whose `POST /exec?wait` hands the command to a long-lived helper process over a pipe; the
// helper posix_spawns `sh -c COMMAND` (vfork underneath), reaps it and writes back its status,
// and the server answers the job. That is one HTTP exchange, one hop to a process creator, and
// the process itself: what any Node server starting processes off its event loop must pay.
// Whatever our server adds on top of it is durability (records, output files, the recorder) and
// features. Usage: node bare-exec-server.mjs; prints the port on stdout.
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import Fastify from 'fastify'

const HELPER = `
import os, sys
for line in sys.stdin:
    pid = os.posix_spawn('/bin/sh', ['sh', '-c', line.rstrip('\\n')], os.environ)
    _, raw = os.waitpid(pid, 0)
    sys.stdout.write('%d\\n' % os.waitstatus_to_exitcode(raw))
    sys.stdout.flush()
`
const helper = spawn('python3', ['-c', HELPER], { stdio: ['pipe', 'pipe', 'inherit'] })
// Why a FIFO of waiters: the helper runs one command at a time and answers in order.
const waiting = []
createInterface({ input: helper.stdout }).on('line', (line) => waiting.shift()?.(Number(line)))
helper.on('error', (err) => { process.stderr.write(`bare-exec-server: python3: ${err.message}\n`); process.exit(1) })
helper.on('exit', () => process.exit(1))

const app = Fastify({ logger: false })
let next = 0
app.post('/exec', async (request, reply) => {
  const command = String(request.body?.command ?? '').replaceAll('\n', ' ')
  const exitCode = await new Promise((resolve) => {
    waiting.push(resolve)
    helper.stdin.write(command + '\n')
  })
  return reply.code(200).send({ jobId: String(next++), status: exitCode === 0 ? 'completed' : 'failed', exitCode })
})
await app.listen({ host: '127.0.0.1', port: 0 })
process.stdout.write(`${app.server.address().port}\n`)
process.on('SIGTERM', () => { helper.kill(); process.exit(0) })
