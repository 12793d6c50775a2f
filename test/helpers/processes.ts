import { readdirSync, readFileSync, readlinkSync } from 'node:fs'

/** What /proc says about one process. */
interface ProcInfo { pid: number, ppid: number, pgrp: number, sid: number, zombie: boolean, cmdline: string }

/** The fields of /proc/<pid>/stat after the command name ([state, ppid, pgrp, session, …]); undefined once it is gone. */
export function procStat (pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  } catch {
    return undefined
  }
}

function readProc (pid: number): ProcInfo | undefined {
  const fields = procStat(pid)
  if (!fields) return undefined // the process ended while we looked
  try {
    const [state, ppid, pgrp, sid] = fields
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
    return { pid, ppid: Number(ppid), pgrp: Number(pgrp), sid: Number(sid), zombie: state === 'Z', cmdline }
  } catch {
    return undefined // the process ended while we looked
  }
}

// True when the process has its working directory or an open file under `dir` (a job's background
// processes keep the job's output files open after the job's shell, whose command line named them, ended).
function usesPathUnder (pid: number, dir: string): boolean {
  try {
    const under = (path: string): boolean => path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`)
    if (under(readlinkSync(`/proc/${pid}/cwd`))) return true
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try { return under(readlinkSync(`/proc/${pid}/fd/${fd}`)) } catch { return false }
    })
  } catch {
    return false // gone, or not ours to look at
  }
}

/**
 * Pids of live (non-zombie) processes whose command line contains `text`, and of everything that
 * belongs to them: their descendants, the members of a process group or session one of them leads
 * (a job's background grandchildren, even once reparented), and, when `text` is an absolute path,
 * every process with its working directory or an open file under it. Never this process or its ancestors.
 */
export function processesMatching (text: string): number[] {
  const procs = new Map<number, ProcInfo>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const info = readProc(Number(entry))
    if (info) procs.set(info.pid, info)
  }
  const ours = new Set<number>()
  for (let pid: number | undefined = process.pid; pid !== undefined && pid > 0 && !ours.has(pid); pid = procs.get(pid)?.ppid) ours.add(pid)

  // Why: never grow into the group or session this process runs in (a terminal's, the test runner's).
  const ourGroups = new Set([...ours].flatMap((pid) => [procs.get(pid)?.pgrp, procs.get(pid)?.sid]))
  const found = new Set<number>()
  for (const info of procs.values()) {
    if (ours.has(info.pid)) continue
    if (info.cmdline.includes(text) || (text.startsWith('/') && usesPathUnder(info.pid, text))) found.add(info.pid)
  }
  // Grow to a fixed point: children of found processes, and members of groups and sessions they lead.
  for (let grown = true; grown;) {
    grown = false
    for (const info of procs.values()) {
      if (found.has(info.pid) || ours.has(info.pid)) continue
      const inGroup = (id: number): boolean => found.has(id) && !ourGroups.has(id)
      if (found.has(info.ppid) || inGroup(info.pgrp) || inGroup(info.sid)) {
        found.add(info.pid)
        grown = true
      }
    }
  }
  return [...found].filter((pid) => procs.get(pid)?.zombie === false).sort((x, y) => x - y)
}

/** True while `pid` is a live (non-zombie) process. */
export function processAlive (pid: number): boolean {
  return readProc(pid)?.zombie === false
}

/** The parent pid of a live process, or undefined once it is gone. */
export function parentOf (pid: number): number | undefined {
  return readProc(pid)?.ppid
}

/** Kills every process `processesMatching(text)` finds (test clean-up); returns their pids. */
export function killMatching (text: string): number[] {
  const pids = processesMatching(text)
  for (const pid of pids) {
    try { process.kill(pid, 'SIGKILL') } catch { /* already gone */ }
  }
  return pids
}
