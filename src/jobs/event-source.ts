import { ChangeWaiter } from '../output/change-waiter.js'
import type { JobManager } from './manager.js'
import { followJob, type Cursor, type JobEvent, type OutputEncoding } from './streams.js'

const CHUNK_BYTES = 64 * 1024
const POLL_MS = 250

/** What the event source needs of the jobs: their records, their files, and a wake-up when one ends. */
export type JobsToFollow = Pick<JobManager, 'get' | 'onFinished' | 'files'>

/** Builds the event streams of jobs for SSE and WebSocket clients, and ends them all on close. */
export class JobEventSource {
  readonly #jobs: JobsToFollow
  readonly #open = new Set<AbortController>()

  constructor (jobs: JobsToFollow) {
    this.#jobs = jobs
  }

  /** Every event of job `id` from `cursor`, live, until the job has ended and all was sent or `signal` aborts. */
  async * events (id: string, cursor: Cursor, encoding: OutputEncoding, signal: AbortSignal): AsyncGenerator<JobEvent> {
    const files = this.#jobs.files(id)
    const waiter = new ChangeWaiter(files.dir, POLL_MS)
    const stopListening = this.#jobs.onFinished(id, () => waiter.wake())
    const local = new AbortController()
    local.signal.addEventListener('abort', () => waiter.wake())
    const onAbort = (): void => local.abort()
    signal.addEventListener('abort', onAbort)
    this.#open.add(local)
    try {
      yield * followJob({
        files,
        getJob: () => this.#jobs.get(id),
        waitForChange: () => waiter.wait(),
        cursor,
        encoding,
        chunkBytes: CHUNK_BYTES,
        signal: local.signal,
      })
    } finally {
      this.#open.delete(local)
      signal.removeEventListener('abort', onAbort)
      stopListening()
      waiter.close()
    }
  }

  /**
   * Ends every open stream now (without an `exit` event): the server is stopping, and clients
   * resume from their last event id against the next one.
   */
  close (): void {
    for (const stream of this.#open) stream.abort()
  }
}
