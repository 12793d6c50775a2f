import { rm } from 'node:fs/promises'
import type { JobFiles } from '../exec/job-files.js'
import type { Logger } from '../logger.js'
import { nowSeconds } from '../lib/clock.js'
import type { JobStore } from './store.js'

const DAY_SEC = 24 * 3600
const SWEEP_DELAY_MS = 1000
const SWEEP_INTERVAL_MS = 3600 * 1000

/** Removes finished jobs beyond the count limit or older than the age limit, with their files. */
export async function pruneJobs (store: JobStore, files: (id: string) => JobFiles, keep: number, maxAgeDays: number, log: Logger): Promise<number> {
  const ids = store.deleteExpired(keep, nowSeconds() - maxAgeDays * DAY_SEC)
  await Promise.all(ids.map((id) => rm(files(id).dir, { recursive: true, force: true })))
  if (ids.length > 0) log.debug({ removed: ids.length }, 'old jobs removed')
  return ids.length
}

// Applies retention hourly, and shortly after jobs finish (bursts of finishes share one sweep).
export class RetentionSweeper {
  readonly #sweep: () => void
  readonly #hourly: NodeJS.Timeout
  #soon: NodeJS.Timeout | undefined
  #closed = false

  constructor (options: { store: JobStore, files: (id: string) => JobFiles, keep: number, maxAgeDays: number, log: Logger }) {
    const { store, files, keep, maxAgeDays, log } = options
    this.#sweep = () => {
      pruneJobs(store, files, keep, maxAgeDays, log).catch((err: unknown) => log.error({ err }, 'job retention failed'))
    }
    this.#hourly = setInterval(this.#sweep, SWEEP_INTERVAL_MS).unref()
  }

  now (): void {
    if (!this.#closed) this.#sweep()
  }

  soon (): void {
    if (this.#closed || this.#soon) return
    this.#soon = setTimeout(() => {
      this.#soon = undefined
      this.#sweep()
    }, SWEEP_DELAY_MS).unref()
  }

  close (): void {
    this.#closed = true
    clearInterval(this.#hourly)
    clearTimeout(this.#soon)
  }
}
