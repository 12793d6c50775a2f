import { execFileSync } from 'node:child_process'

// Why python3: its os.posix_spawn (vfork underneath) is a bare process creation without Node's fork cost.
const FLOOR_SCRIPT = `
import os, sys, time
n = int(sys.argv[1]); times = []
for _ in range(n):
    t = time.perf_counter()
    pid = os.posix_spawn('/bin/sh', ['sh', '-c', 'true'], os.environ)
    os.waitpid(pid, 0)
    times.append((time.perf_counter() - t) * 1000)
times.sort()
print(times[len(times) // 2], times[int(len(times) * 0.9)])
`

/** The floor of a job: a bare posix_spawn of `sh -c true` until it is reaped, p50 and p90 in ms; null without python3. */
export function measureSpawnFloor (iterations: number): { p50Ms: number, p90Ms: number } | null {
  try {
    const [p50, p90] = execFileSync('python3', ['-c', FLOOR_SCRIPT, String(iterations)], { encoding: 'utf8' }).trim().split(' ').map(Number)
    return { p50Ms: Math.round((p50 ?? Number.NaN) * 100) / 100, p90Ms: Math.round((p90 ?? Number.NaN) * 100) / 100 }
  } catch {
    return null
  }
}
