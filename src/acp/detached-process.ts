import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'

/**
 * Options every helper process of an ACP run is started with through execa. Why `detached`:
 * execa's kill and timeout reach only the direct child, so a process is ended by signalling its
 * whole group (exec/process-group.ts), which needs a group of its own. `reject: false`: the
 * subprocess never rejects, its result says how it ended. `buffer: false`: the caller reads the
 * output. `extendEnv: false`: the env given is the whole env (the server's secrets stay out).
 */
export const DETACHED_OPTIONS = { detached: true, buffer: false, reject: false, extendEnv: false } as const

/** What an execa subprocess started with `DETACHED_OPTIONS` resolves with (the part used here). */
type StartResult = PromiseLike<{ pid?: number | undefined, cause?: unknown, shortMessage?: string | undefined }>

/**
 * Resolves once an execa subprocess runs (pass it twice: as the process and as its result);
 * rejects with the spawn error (e.g. `spawn x ENOENT`) when it cannot start.
 */
export async function spawned (child: ChildProcess, result: StartResult): Promise<void> {
  await Promise.race([
    once(child, 'spawn'),
    Promise.resolve(result).then((result) => {
      if (result.pid === undefined) throw (result.cause instanceof Error ? result.cause : new Error(result.shortMessage ?? 'cannot start'))
    }),
  ])
}
