import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { jobFiles, type JobFiles } from '../../../src/exec/job-files.js'
import { JobProcess } from '../../../src/exec/job-process.js'
import { exitInfoOfProcess } from '../../../src/jobs/outcome.js'

describe('JobProcess (real processes)', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'job-process-'))
  after(() => rmSync(stateDir, { recursive: true, force: true }))

  const start = async (files: JobFiles, command: string): Promise<JobProcess> =>
    JobProcess.start({ files, command, shell: '/bin/sh', cwd: stateDir, env: { PATH: process.env.PATH }, stdin: 'ignore' })

  test("the exit status is the command's own, 2 and 125 included, and the output lands in the files", async () => {
    for (const status of [0, 2, 125]) {
      const files = jobFiles(stateDir, `status-${status}`)
      mkdirSync(files.dir, { recursive: true })
      const job = await start(files, `echo out; echo err >&2; exit ${status}`)
      assert.deepEqual(exitInfoOfProcess(await job.exited), { exitCode: status, signal: null, error: null })
      assert.equal(readFileSync(files.stdout, 'utf8'), 'out\n')
      assert.equal(readFileSync(files.stderr, 'utf8'), 'err\n')
    }
  })

  test('output files that cannot be opened are an error on the job, not an exit status; the command does not run', async () => {
    const files = jobFiles(stateDir, 'no-such-folder')
    const marker = join(stateDir, 'ran')
    const job = await start(files, `touch ${marker}`)
    assert.deepEqual(exitInfoOfProcess(await job.exited), { exitCode: null, signal: null, error: `could not open the job's output files (${files.stdout})` })
    assert.throws(() => readFileSync(marker), { code: 'ENOENT' })
  })
})
