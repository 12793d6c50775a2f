import type { ShellAvailability, ShellKind } from './shells.js'

/** devpilot's persistent_shell_* fields of an authenticated GET /health, with this machine's truth. */
export interface SessionHealth {
  persistent_shell_supported: boolean
  /** Every kind: true when installed and runnable here (pwsh/powershell: false until built). */
  persistent_shell_shells: Record<ShellKind, boolean>
  persistent_shell_default_shell: ShellKind | null
  persistent_shell_sessions: number
  persistent_shell_max_sessions: number
  persistent_shell_idle_timeout_seconds: number
}

/** The /health session fields; "persistent_shell" belongs in execution_modes when `persistent_shell_supported`. */
export function sessionHealth (shells: ShellAvailability, sessions: number, maxSessions: number, idleTimeoutMs: number): SessionHealth {
  return {
    persistent_shell_supported: shells.supported,
    persistent_shell_shells: {
      bash: shells.installed.bash !== undefined,
      zsh: shells.installed.zsh !== undefined,
      sh: shells.installed.sh !== undefined,
      pwsh: shells.installed.pwsh !== undefined,
      powershell: shells.installed.powershell !== undefined,
    },
    persistent_shell_default_shell: shells.defaultShell,
    persistent_shell_sessions: sessions,
    persistent_shell_max_sessions: maxSessions,
    persistent_shell_idle_timeout_seconds: idleTimeoutMs / 1000,
  }
}
