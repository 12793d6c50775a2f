import type { ChildProcess } from 'node:child_process'
import type { EventEmitter } from 'node:events'

/**
 * Keeps an 'error' listener on a started subprocess and each of its pipes for their whole life.
 * Why: execa listens for 'error' only until its result settles (its `once` and `finished`
 * listeners are removed then); a later 'error' (a failed kill, a pipe torn down after the exit)
 * would stop the server.
 */
export function listenForErrors (child: ChildProcess & { all?: NodeJS.ReadableStream | undefined }, onError: (err: Error, where: string) => void): void {
  child.on('error', (err) => onError(err, 'process'))
  const pipes: Array<[string, EventEmitter | null | undefined]> = [['stdin', child.stdin], ['stdout', child.stdout], ['stderr', child.stderr], ['all', child.all]]
  for (const [where, pipe] of pipes) pipe?.on('error', (err: Error) => onError(err, where))
}
