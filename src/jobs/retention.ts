import { rm } from 'node:fs/promises'
import { jobFiles } from '../exec/job-files.js'
import type { Logger } from '../logger.js'
import type { JobStore } from './store.js'

const DAY_SEC = 24 * 3600

/** Removes finished jobs beyond the count limit or older than the age limit, with their files. */
export async function pruneJobs (store: JobStore, stateDir: string, keep: number, maxAgeDays: number, log: Logger): Promise<number> {
  const ids = store.deleteExpired(keep, Date.now() / 1000 - maxAgeDays * DAY_SEC)
  await Promise.all(ids.map((id) => rm(jobFiles(stateDir, id).dir, { recursive: true, force: true })))
  if (ids.length > 0) log.debug({ removed: ids.length }, 'old jobs removed')
  return ids.length
}
