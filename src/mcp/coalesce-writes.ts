import type { ServerResponse } from 'node:http'

/**
 * Makes what a response writes within one tick leave as one socket write. Why: the SDK answers a
 * POST as a one-event SSE stream that its HTTP bridge writes as three (headers flushed, the event,
 * the end), each a syscall that wakes the client; corked until the next tick they go out together,
 * while a stream that goes on (progress, GET) is still sent at once.
 */
export function coalesceWrites (res: ServerResponse): void {
  let corked = false
  const corkForThisTick = (): void => {
    if (corked) return
    corked = true
    res.cork()
    process.nextTick(() => {
      corked = false
      // Why the check: end() already uncorked fully and the socket may serve the next request.
      if (!res.writableEnded) res.uncork()
    })
  }
  const write = res.write.bind(res) as (...args: unknown[]) => boolean
  const flushHeaders = res.flushHeaders.bind(res)
  res.write = ((...args: unknown[]) => { corkForThisTick(); return write(...args) }) as ServerResponse['write']
  res.flushHeaders = () => { corkForThisTick(); flushHeaders() }
}
