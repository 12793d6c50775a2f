import { mkdir, stat } from 'node:fs/promises'
import { dirname } from 'node:path'

/**
 * `mkdir -p` that fails with the real cause. Why: Node's recursive mkdir reports ENOENT when it
 * cannot create a missing folder for any reason (a read-only file system, no permission); the plain
 * call on the first missing folder says which.
 */
export async function makeDirs (path: string, mode?: number): Promise<void> {
  try {
    await mkdir(path, { recursive: true, ...(mode !== undefined ? { mode } : {}) })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    await mkdir(await firstMissing(path), mode)
    throw err
  }
}

// The outermost folder of `path` that does not exist.
async function firstMissing (path: string): Promise<string> {
  let missing = path
  for (let parent = dirname(missing); parent !== missing; missing = parent, parent = dirname(parent)) {
    try {
      await stat(parent)
      return missing
    } catch { /* keep going up */ }
  }
  return missing
}
