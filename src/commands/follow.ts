import type { JobEvent, RuntimeClient } from '../client/index.js'
import { writeAll, type CommandIo } from './io.js'
import type { Spinner } from './spinner.js'

export type ExitData = Extract<JobEvent, { event: 'exit' }>['data']

/** Copies a job's output, byte for byte, to stdout/stderr as it arrives (waiting while `hold` does); returns its exit event. */
export async function followOutput (client: RuntimeClient, jobId: string, io: CommandIo, options: { signal?: AbortSignal, spinner?: Spinner | undefined, hold?: () => Promise<void>, seen?: (bytes: Uint8Array) => void } = {}): Promise<ExitData | undefined> {
  const { spinner } = options
  for await (const event of client.events(jobId, { encoding: 'base64', ...(options.signal ? { signal: options.signal } : {}) })) {
    if (event.event === 'status') spinner?.setLabel(event.data.status)
    if (event.event === 'output') {
      // Why: output written while a question waits for an answer would draw over it.
      await options.hold?.()
      spinner?.activity()
      const bytes = Buffer.from(event.data.data, 'base64')
      options.seen?.(bytes)
      await writeAll(event.data.stream === 'stdout' ? io.stdout : io.stderr, bytes)
    }
    if (event.event === 'exit') return event.data
  }
  return undefined
}

/** The process exit code that mirrors a job's end: its own code (128+n for a signal), else 1. */
export function exitCodeOf (exit: ExitData | undefined): number {
  if (!exit) return 1
  return exit.exitCode ?? (exit.status === 'completed' ? 0 : 1)
}
