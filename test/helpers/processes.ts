import { readdirSync, readFileSync } from 'node:fs'

/** Pids of live (non-zombie) processes whose command line contains `text`. */
export function processesMatching (text: string): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ')
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
      if (cmdline.includes(text) && state !== 'Z') pids.push(Number(entry))
    } catch { /* the process ended while we looked */ }
  }
  return pids
}

/** Kills every process whose command line contains `text` (test clean-up). */
export function killMatching (text: string): number[] {
  const pids = processesMatching(text)
  for (const pid of pids) {
    try { process.kill(pid, 'SIGKILL') } catch { /* already gone */ }
  }
  return pids
}
