import { statfsSync } from 'node:fs'

/** What the file system holding `path` has left for this process: bytes, and whether it is out of inodes; null when unknown. */
export function freeSpace (path: string): { bytes: number, noInodes: boolean } | null {
  try {
    const fs = statfsSync(path)
    // Why `files > 0`: file systems without an inode limit (btrfs) report 0 of 0.
    return { bytes: fs.bavail * fs.bsize, noInodes: fs.files > 0 && fs.ffree === 0 }
  } catch {
    return null
  }
}
