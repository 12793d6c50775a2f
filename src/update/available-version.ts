import { execFile } from 'node:child_process'
import type { Installation } from './install-source.js'

// A registry or remote that does not answer within this is reported as unreachable.
const LOOKUP_TIMEOUT_MS = 20_000

/** What `agent-server update --check` found: the installed version, the newest available one, and a sentence. */
export interface UpdateCheck {
  kind: Installation['kind']
  installed: string
  /** The newest version the update source offers, or null when unknown (offline, no source). */
  available: string | null
  /** True when `available` is known and differs from what is installed. */
  updateAvailable: boolean
  message: string
}

/** Runs a program with a deadline; never rejects (`code` null when it could not run or timed out). */
async function run (program: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise((resolve) => {
    execFile(program, args, { cwd, timeout: LOOKUP_TIMEOUT_MS, env: { ...env, GIT_TERMINAL_PROMPT: '0' }, maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null
      resolve({ code, stdout, stderr: stderr || (err?.message ?? '') })
    })
  })
}

const firstLine = (text: string): string => text.trim().split('\n').find((line) => line.trim() !== '')?.trim() ?? 'no output'

async function checkGit (install: Installation, ref: string | null): Promise<UpdateCheck> {
  const at = await run('git', ['describe', '--tags', '--always', '--dirty'], install.root)
  const installed = `${install.version} (${at.code === 0 ? firstLine(at.stdout) : 'git describe failed'})`
  const base = { kind: install.kind, installed }
  const remote = ref === null
    ? await run('git', ['ls-remote', '--tags', '--refs', '--sort=-v:refname', 'origin', 'v[0-9]*', '[0-9]*'], install.root)
    : await run('git', ['ls-remote', 'origin', ref], install.root)
  if (remote.code !== 0) return { ...base, available: null, updateAvailable: false, message: `cannot ask the git remote origin (${remote.code === null ? 'no answer within 20 s' : firstLine(remote.stderr)})` }
  const first = remote.stdout.split('\n').find((line) => line.trim() !== '')
  if (first === undefined) {
    if (ref !== null && /^[0-9a-f]{7,40}$/.test(ref)) return { ...base, available: ref, updateAvailable: true, message: `${ref} looks like a commit; the update checks it out after fetching origin` }
    return { ...base, available: null, updateAvailable: false, message: ref === null ? 'origin has no version tags (v1.2.3 or 1.2.3)' : `origin has no ref ${ref}` }
  }
  const [sha = '', name = ''] = first.split('\t')
  const available = ref === null ? name.replace(/^refs\/tags\//, '') : `${ref} (${sha.slice(0, 12)})`
  const head = await run('git', ['rev-parse', 'HEAD'], install.root)
  const current = head.code === 0 && head.stdout.trim() === sha
  return { ...base, available, updateAvailable: !current, message: current ? 'up to date' : `an update is available: ${ref === null ? `the newest tag on origin is ${available}` : `${ref} is at another commit`}` }
}

async function checkNpm (install: Installation, env: NodeJS.ProcessEnv): Promise<UpdateCheck> {
  const base = { kind: install.kind, installed: install.version }
  const view = await run('npm', ['view', install.name, 'version'], install.root, env)
  if (view.code !== 0) {
    const reason = /E404|404 Not Found/.test(view.stderr) ? `the npm registry has no package ${install.name}` : `cannot ask the npm registry (${view.code === null ? 'no answer within 20 s' : firstLine(view.stderr)})`
    return { ...base, available: null, updateAvailable: false, message: reason }
  }
  const available = firstLine(view.stdout)
  const newer = available !== install.version
  return { ...base, available, updateAvailable: newer, message: newer ? `an update is available: ${install.name}@${available}` : 'up to date' }
}

/** Asks the installation's update source for its newest version (git remote tags, or the npm registry). */
export async function checkForUpdate (install: Installation, ref: string | null = null, env: NodeJS.ProcessEnv = process.env): Promise<UpdateCheck> {
  if (install.kind === 'git') return checkGit(install, ref)
  if (install.kind === 'npm') return checkNpm(install, env)
  const message = install.kind === 'container'
    ? 'runs in a container: updates come from a new image (pull or build it, then recreate the container)'
    : `${install.root} is neither a git checkout nor an npm install: the update source is unknown (pass --update-command)`
  return { kind: install.kind, installed: install.version, available: null, updateAvailable: false, message }
}
