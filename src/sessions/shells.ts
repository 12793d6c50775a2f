import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

/** A shell kind a persistent session can run. */
export type ShellKind = 'bash' | 'zsh' | 'sh' | 'pwsh' | 'powershell'

/** Every kind, in the order /health lists them and the default is chosen. */
export const SHELL_KINDS: readonly ShellKind[] = ['bash', 'zsh', 'sh', 'pwsh', 'powershell']

// devpilot's aliases (matched case-insensitively), plus the POSIX shells' usual names.
const ALIASES: Readonly<Record<string, ShellKind>> = {
  bash: 'bash',
  zsh: 'zsh',
  sh: 'sh',
  dash: 'sh',
  pwsh: 'pwsh',
  'pwsh.exe': 'pwsh',
  powershell: 'powershell',
  'powershell.exe': 'powershell',
  'windows-powershell': 'powershell',
}

// Executable names looked up on PATH for each kind, first found wins (devpilot's order for PowerShell).
const EXECUTABLES: Readonly<Record<ShellKind, readonly string[]>> = {
  bash: ['bash'],
  zsh: ['zsh'],
  sh: ['sh'],
  pwsh: ['pwsh', 'pwsh.exe'],
  powershell: ['powershell.exe', 'powershell'],
}

/** The kind an alias names ("Pwsh.exe" → "pwsh"), or undefined for an unknown name. */
export function shellKindOf (alias: string): ShellKind | undefined {
  return Object.hasOwn(ALIASES, alias.toLowerCase()) ? ALIASES[alias.toLowerCase()] : undefined
}

/** True for the kinds this version can run as sessions (the POSIX shells; PowerShell is not built yet). */
export function isRunnableKind (kind: ShellKind): kind is 'bash' | 'zsh' | 'sh' {
  return kind === 'bash' || kind === 'zsh' || kind === 'sh'
}

/** The absolute path of the first executable for `kind` on `path`, or null when none is installed. */
export function findShell (kind: ShellKind, path: string | undefined = process.env.PATH): string | null {
  for (const dir of (path ?? '').split(delimiter)) {
    if (dir === '') continue
    for (const name of EXECUTABLES[kind]) {
      const candidate = join(dir, name)
      try {
        accessSync(candidate, constants.X_OK)
        return candidate
      } catch { /* not here */ }
    }
  }
  return null
}

/** Which shells are installed here and which one is the default: the truth for /health. */
export interface ShellAvailability {
  /** Absolute executable path of every installed kind that this version can run. */
  installed: Partial<Record<ShellKind, string>>
  /** Every kind, true when installed (pwsh/powershell report installation even though not runnable yet). */
  present: Record<ShellKind, boolean>
  /** The default shell: bash, else sh, else zsh; null when none is runnable. */
  defaultShell: ShellKind | null
  /** True when at least one shell can run a session. */
  supported: boolean
}

/** Looks up every shell kind on PATH once (no process is started). */
export function detectShells (path: string | undefined = process.env.PATH): ShellAvailability {
  const installed: Partial<Record<ShellKind, string>> = {}
  const present = {} as Record<ShellKind, boolean>
  for (const kind of SHELL_KINDS) {
    const found = findShell(kind, path)
    present[kind] = found !== null
    if (found !== null && isRunnableKind(kind)) installed[kind] = found
  }
  const defaultShell = (['bash', 'sh', 'zsh'] as const).find((kind) => installed[kind] !== undefined) ?? null
  return { installed, present, defaultShell, supported: defaultShell !== null }
}

let detected: ShellAvailability | undefined

/** The shells of this machine, looked up on the server's PATH once. */
export function machineShells (): ShellAvailability {
  detected ??= detectShells()
  return detected
}
