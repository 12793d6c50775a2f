import { constants as fsConstants, openSync, readFileSync, unlinkSync } from 'node:fs'
import { waitUntil } from '../lib/wait.js'
import type { JobFiles } from './job-files.js'
import { FifoWriter } from './job-stdin.js'

// How long the pid of a job started by a launcher that then died may take to appear in its launch file.
const LAUNCH_FILE_WAIT_MS = 1000

/** Where a job's launch file (the pid its recorder wrote) and stdin FIFO live. */
export function launchPaths (files: JobFiles): { launch: string, stdinFifo: string } {
  return { launch: `${files.dir}/launch`, stdinFifo: `${files.dir}/stdin` }
}

// The recorder's pid from the launch file: undefined when there is no file, null while it holds no pid (yet).
function readLaunchFile (files: JobFiles): number | null | undefined {
  let text: string
  try { text = readFileSync(launchPaths(files).launch, 'utf8') } catch { return undefined }
  return /^\d+\n$/.test(text) ? Number(text) : null
}

/**
 * The pid of the job's recorder from its launch file, or null when no launcher started it (yet).
 * Why: a server killed between the launcher's fork and its own record of the pid leaves a job
 * that runs with no pid in the store; the next server finds it here.
 */
export function launchedPid (files: JobFiles): number | null {
  return readLaunchFile(files) ?? null
}

/**
 * For a request sent again after a launcher died: the pid of the job that launcher had started
 * already, or null when it started none; clears what that launcher left behind.
 */
export async function pidLaunchedBefore (files: JobFiles): Promise<number | null> {
  const { launch, stdinFifo } = launchPaths(files)
  if (readLaunchFile(files) === undefined) return null
  await waitUntil(() => readLaunchFile(files) !== null, LAUNCH_FILE_WAIT_MS)
  const pid = readLaunchFile(files)
  if (pid === null || pid === undefined) {
    // Why: the launcher died between creating the launch file and forking: nothing was started.
    try { unlinkSync(launch) } catch { /* gone */ }
    return null
  }
  // Why: the launcher that held the job's stdin is gone; the job has read EOF or will.
  try { unlinkSync(stdinFifo) } catch { /* none */ }
  return pid
}

/** Opens the server's end of the job's stdin FIFO, or null when the job has closed its stdin already (or ended). */
export function openStdinFifo (files: JobFiles): FifoWriter | null {
  try {
    return new FifoWriter(openSync(launchPaths(files).stdinFifo, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK))
  } catch {
    return null
  }
}
