import { open, stat, type FileHandle } from 'node:fs/promises'
import { Readable } from 'node:stream'
import type { FileListing } from '../client/index.js'
import type { Config } from '../config.js'
import { Errors } from '../errors.js'
import { writeFileAtomically } from '../files/atomic-write.js'
import { listDirectory } from '../files/entries.js'
import { onPath } from '../files/fs-errors.js'
import { resolveRequestPath, type FilesRoot } from '../files/paths.js'
import { parseExecRequest } from '../jobs/exec-request.js'
import type { JobManager } from '../jobs/manager.js'
import type { JobRecord } from '../jobs/types.js'
import { jobView } from '../jobs/view.js'
import type { McpBackend } from './backend.js'

/** The tools' backend inside the server: the app's JobManager and the files API's core functions. */
export function localBackend (config: Config, jobs: JobManager): McpBackend {
  const files: FilesRoot = { root: config.filesRoot, confine: config.filesConfine }
  const requireJob = (id: string): JobRecord => {
    const job = jobs.get(id)
    if (!job) throw new Errors.JOB_NOT_FOUND()
    return job
  }
  // A file (not a directory) under the files API's path rules, opened for reading; the caller closes it.
  const openRegularFile = async (raw: string): Promise<{ path: string, handle: FileHandle, size: number }> => {
    const path = await resolveRequestPath(files, raw)
    const handle = await onPath(path, () => open(path, 'r'))
    try {
      const stats = await handle.stat()
      if (stats.isDirectory()) throw new Errors.IS_A_DIRECTORY(raw)
      return { path, handle, size: stats.size }
    } catch (err) {
      await handle.close()
      throw err
    }
  }
  return {
    submit: async (request) => jobs.submit(parseExecRequest(request, process.cwd())).job.id,
    submitSession: async (request) => jobs.submit(parseExecRequest({ shell: 'bash', ...request, mode: 'persistent_shell' }, process.cwd())).job.id,
    sessions: async () => (jobs.sessions?.list() ?? []).sort((a, b) => a.sessionKey < b.sessionKey ? -1 : a.sessionKey > b.sessionKey ? 1 : 0),
    submitAgent: async (request) => jobs.submit(parseExecRequest({ ...request, mode: 'acp' }, process.cwd())).job.id,
    job: async (jobId, read = {}) => {
      requireJob(jobId)
      // Why: a job being started may already have written output; its pid is known a moment later.
      await jobs.starting(jobId)
      const job = requireJob(jobId)
      const { maxBytes, ...select } = read
      return jobView(job, jobs.files(job.id), { maxBytes: Math.min(config.maxInlineOutputBytes, maxBytes ?? Infinity), ...select }, {
        processAlive: jobs.isRunning(job.id),
        queuePosition: job.status === 'pending' ? jobs.queuePosition(job.id) : undefined,
        acp: jobs.acpLive(job.id),
      })
    },
    waitFinished: async (jobId, timeoutMs, signal) => {
      requireJob(jobId)
      await jobs.waitFinished(jobId, timeoutMs, signal)
    },
    kill: async (jobId, signal) => {
      const { job, signalled } = jobs.kill(jobId, signal as NodeJS.Signals | undefined)
      return { jobId: job.id, status: job.status, signal: signalled }
    },
    writeStdin: async (jobId, data, eof) => ({ written: await jobs.writeStdin(jobId, data, eof) }),
    readFile: async (raw, maxBytes) => {
      const { path, handle, size } = await openRegularFile(raw)
      try {
        const bytes = new Uint8Array(Math.min(size, maxBytes))
        const { bytesRead } = await handle.read(bytes, 0, bytes.length, 0)
        return { path, size, bytes: bytes.subarray(0, bytesRead) }
      } finally {
        await handle.close()
      }
    },
    openFile: async (raw) => {
      const { path, handle, size } = await openRegularFile(raw)
      // Why autoClose: the stream closes the handle when it ends or when the reader breaks off.
      return { path, size, chunks: handle.createReadStream({ autoClose: true }) }
    },
    writeFile: async (raw, content, mkdir) => {
      const path = await resolveRequestPath(files, raw)
      const created = await writeFileAtomically(Readable.from([Buffer.from(content)]), path, { mkdir, maxBytes: config.maxUploadBytes })
      return { path, created }
    },
    listDirectory: async (raw, recursive, limit): Promise<FileListing> => {
      const path = await resolveRequestPath(files, raw)
      const stats = await onPath(path, () => stat(path))
      if (!stats.isDirectory()) throw new Errors.NOT_A_DIRECTORY(raw)
      return { path, ...await onPath(path, () => listDirectory(path, recursive, limit)) }
    },
    resolvePath: async (raw) => {
      const path = await resolveRequestPath(files, raw)
      await onPath(path, () => stat(path))
      return path
    },
  }
}
