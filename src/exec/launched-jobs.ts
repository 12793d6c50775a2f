import { readExitFile, type JobFiles } from './job-files.js'
import { JobProcess, recorderEnd } from './job-process.js'
import type { JobStdin } from './job-stdin.js'
import type { ProcessEnd } from './process-end.js'
import { isSameProcess } from './process-group.js'

// How often a job is checked once no launcher reports its end (the launcher that started it died).
const ORPHAN_POLL_MS = 50

interface Watch {
  files: JobFiles
  startTime: string | null
  /** The server's end of the job's stdin, closed once the job has ended. */
  stdin: JobStdin | null
  resolve: (info: ProcessEnd | null) => void
  poll?: NodeJS.Timeout
}

/**
 * The jobs started through launchers that this server follows, by pid: each ends when a live launcher
 * reports its recorder's end or, once that launcher died, when polling finds its recorder gone.
 */
export class LaunchedJobs {
  readonly #watches = new Map<number, Watch>()
  readonly #onForgotten: () => void

  /** `onForgotten` is called when a job stops being followed other than on a launcher's answer: detached, or found ended by polling. */
  constructor (onForgotten: () => void) {
    this.#onForgotten = onForgotten
  }

  /** How many jobs are followed. */
  get size (): number {
    return this.#watches.size
  }

  /** The handle of a job a launcher started; `orphan`: that launcher is gone, so the job is polled. */
  follow (files: JobFiles, pid: number, startTime: string | null, stdin: JobStdin | null, orphan: boolean): JobProcess {
    const exit = new Promise<ProcessEnd | null>((resolve) => {
      this.#watches.set(pid, { files, startTime, stdin, resolve })
    })
    if (orphan) this.#pollOrphan(pid)
    return JobProcess.launched(pid, startTime, stdin, exit, () => {
      clearInterval(this.#watches.get(pid)?.poll)
      this.#watches.delete(pid)
      this.#onForgotten()
      stdin?.destroy()
    })
  }

  /** A launcher reported that job `pid`'s recorder ended so (null: the field did not apply). */
  recorderExited (pid: number, code: number | null, signal: NodeJS.Signals | null): void {
    const watch = this.#watches.get(pid)
    if (!watch) return
    clearInterval(watch.poll)
    this.#watches.delete(pid)
    watch.stdin?.destroy()
    watch.resolve(recorderEnd(watch.files, code, signal))
  }

  /** The launcher died: every job followed now is followed by polling its pid. */
  launcherDied (): void {
    for (const pid of this.#watches.keys()) this.#pollOrphan(pid)
  }

  /** Stops following every job; they run on. */
  close (): void {
    for (const watch of this.#watches.values()) clearInterval(watch.poll)
    this.#watches.clear()
  }

  // Follows one job by polling its pid: its recorder is not this launcher's child.
  #pollOrphan (pid: number): void {
    const watch = this.#watches.get(pid)
    if (!watch || watch.poll) return
    watch.poll = setInterval(() => {
      if (isSameProcess(pid, watch.startTime)) return
      clearInterval(watch.poll)
      this.#watches.delete(pid)
      this.#onForgotten()
      watch.stdin?.destroy()
      watch.resolve(readExitFile(watch.files.exit) !== null ? recorderEnd(watch.files, null, null) : null)
    }, ORPHAN_POLL_MS)
  }
}
