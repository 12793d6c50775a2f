import { existsSync, readFileSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { shellQuote } from '../lib/shell-words.js'

/** How this copy was installed, which decides where an update comes from. */
export type InstallKind = 'git' | 'npm' | 'container' | 'unknown'

/** This installation: its kind, its package root, and package.json's name and version. */
export interface Installation {
  kind: InstallKind
  root: string
  name: string
  version: string
}

/** The package root of this code (package.json sits one level above src/ and dist/). */
export const PACKAGE_ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)))

/** Set by the Dockerfile: this copy runs in a container and updates come from a new image. */
export const CONTAINER_ENV = 'AGENT_RUNTIME_CONTAINER'

// Files container runtimes create (Docker, Podman).
const CONTAINER_MARKERS = ['/.dockerenv', '/run/.containerenv']

/** A ref or tag safe to put into a shell command. */
export const SAFE_REF = /^[A-Za-z0-9][A-Za-z0-9._/+-]{0,199}$/

/**
 * Detects how the copy at `root` was installed: a git checkout (root holds `.git`), a container
 * (CONTAINER_ENV or a runtime's marker file), an npm install (root inside `node_modules`), else unknown.
 */
export function detectInstallation (root: string = PACKAGE_ROOT, env: NodeJS.ProcessEnv = process.env, markers: readonly string[] = CONTAINER_MARKERS): Installation {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string, version: string }
  const base = { root, name: pkg.name, version: pkg.version }
  if (existsSync(join(root, '.git'))) return { kind: 'git', ...base }
  if ((env[CONTAINER_ENV] ?? '') !== '' || markers.some((marker) => existsSync(marker))) return { kind: 'container', ...base }
  const parent = dirname(root.replace(/\/+$/, ''))
  if (basename(parent) === 'node_modules' || basename(dirname(parent)) === 'node_modules') return { kind: 'npm', ...base }
  return { kind: 'unknown', ...base }
}

/** The shell line that picks the newest version tag of the checkout (after a fetch). */
export const NEWEST_TAG = "git tag --list 'v[0-9]*' '[0-9]*' --sort=-v:refname | head -n 1"

/** The update and rollback commands that match the installation, and one line saying where updates come from. */
export function updateCommandsFor (install: Installation, ref: string | null = null): { update: string, rollback: string, source: string } {
  if (ref !== null && !SAFE_REF.test(ref)) throw new Error(`--update-ref must be a tag, branch or commit name, got "${ref}"`)
  const cd = `cd ${shellQuote(install.root)}`
  const build = 'npm ci && npm run build'
  switch (install.kind) {
    case 'git': {
      const target = ref ?? `$(${NEWEST_TAG})`
      return {
        update: `${cd} && git fetch --tags --force --quiet origin && target=${ref === null ? `"${target}"` : shellQuote(target)} && test -n "$target" && git -c advice.detachedHead=false checkout --quiet --detach "$target" && ${build}`,
        rollback: `${cd} && { git -c advice.detachedHead=false checkout --quiet --detach v{version} || git -c advice.detachedHead=false checkout --quiet --detach {version}; } && ${build}`,
        source: `git checkout at ${install.root}: fetch origin, check out ${ref ?? 'the newest version tag'}, npm ci, build`,
      }
    }
    case 'npm':
      return {
        update: `npm install -g ${install.name}@latest`,
        rollback: `npm install -g ${install.name}@{version}`,
        source: `npm global install of ${install.name}: npm install -g ${install.name}@latest`,
      }
    case 'container': {
      const say = 'echo \'agent-runtime runs in a container: update it by pulling or building a new image and recreating the container (docs/operations.md)\' >&2; exit 1'
      return { update: say, rollback: say, source: 'container: updates come from a new image, not from inside' }
    }
    default: {
      const say = `echo 'agent-runtime at ${install.root.replaceAll("'", '')} is neither a git checkout nor an npm install: pass --update-command' >&2; exit 1`
      return { update: say, rollback: say, source: `unknown installation at ${install.root}: pass --update-command` }
    }
  }
}
