import { setLongTimeout, type LongTimer } from '../lib/long-timer.js'
import { nowSeconds } from '../lib/clock.js'
import type { Logger } from '../logger.js'
import { lastWriteAt } from '../output/read.js'
import type { JobFiles } from '../exec/job-files.js'
import type { KillReason } from './outcome.js'
import type { JobRecord } from './types.js'

/**
 * Arms a job's timeout and idle timeout (counted from its recorded `startedAt`, so a re-adopted
 * job keeps its limits); `terminate` is called with the reason when one is reached. Shell and tty
 * jobs share it; clear the returned timers once the job has ended.
 */
export function armJobLimits (job: JobRecord, files: JobFiles, terminate: (reason: KillReason) => void, log: Logger): LongTimer[] {
  const { id, spec } = job
  const startedAt = job.startedAt ?? nowSeconds()
  const timers: LongTimer[] = []
  if (spec.timeoutSec > 0) {
    const remainingMs = Math.max(0, (startedAt + spec.timeoutSec - nowSeconds()) * 1000)
    timers.push(setLongTimeout(() => terminate('timeout'), remainingMs, { ref: true }))
  }
  if (spec.idleTimeoutSec > 0) {
    const checkMs = Math.min(1000, Math.max(50, spec.idleTimeoutSec * 250))
    const check = setInterval(() => {
      try {
        const last = Math.max(startedAt, lastWriteAt([files.stdout, files.stderr]) ?? 0)
        if (nowSeconds() - last >= spec.idleTimeoutSec) terminate('idle')
      } catch (err) {
        log.error({ err, jobId: id }, 'idle check failed')
      }
    }, checkMs)
    timers.push({ clear: () => clearInterval(check) })
  }
  return timers
}
