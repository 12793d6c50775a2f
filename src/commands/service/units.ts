/** What a service definition needs: the program and its arguments, the environment, where it runs. */
export interface ServiceSpec {
  /** Unit / label base name, e.g. `agent-runtime`. */
  name: string
  /** Absolute program and arguments (node, the CLI, `--wrapper`, the server flags). */
  argv: readonly string[]
  /** PATH the server (and so its jobs) starts with. */
  path: string
  workdir: string
  /** For a system unit: the user it runs as (a user unit runs as its owner). */
  user?: string | undefined
  /** Where launchd writes the output (systemd sends it to the journal). */
  logFile: string
}

// Why: systemd splits ExecStart on spaces and expands `%` specifiers; quote and escape every word.
const systemdWord = (word: string): string => {
  const escaped = word.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('%', '%%')
  return /^[\w@+=:,./-]+$/.test(word) ? escaped : `"${escaped}"`
}

/**
 * A systemd unit. `KillMode=process`: a stop or restart signals the wrapper only, so running jobs
 * (in their own process groups) outlive it and the next server adopts them; `Restart=on-failure`
 * restarts after a crash but not after `agent-server stop`.
 */
export function systemdUnit (spec: ServiceSpec, userUnit: boolean): string {
  return [
    '[Unit]',
    'Description=agent-runtime server (agent-server --wrapper)',
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    ...(userUnit || spec.user === undefined ? [] : [`User=${spec.user}`]),
    `ExecStart=${spec.argv.map(systemdWord).join(' ')}`,
    `WorkingDirectory=${systemdWord(spec.workdir)}`,
    `Environment=${systemdWord(`PATH=${spec.path}`)}`,
    // Why: the wrapper's SIGTERM is the orderly stop; jobs are left running for the next server.
    'KillMode=process',
    'KillSignal=SIGTERM',
    'TimeoutStopSec=90',
    'Restart=on-failure',
    'RestartSec=2',
    '',
    '[Install]',
    `WantedBy=${userUnit ? 'default.target' : 'multi-user.target'}`,
    '',
  ].join('\n')
}

const xml = (text: string): string => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;')

/**
 * A launchd property list. `AbandonProcessGroup` is launchd's `KillMode=process` (jobs outlive a
 * stop); `KeepAlive.SuccessfulExit=false` is `Restart=on-failure`.
 */
export function launchdPlist (spec: ServiceSpec, label: string): string {
  const string = (text: string): string => `<string>${xml(text)}</string>`
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    '<dict>',
    `  <key>Label</key>${string(label)}`,
    '  <key>ProgramArguments</key>',
    '  <array>',
    ...spec.argv.map((word) => `    ${string(word)}`),
    '  </array>',
    ...(spec.user === undefined ? [] : [`  <key>UserName</key>${string(spec.user)}`]),
    `  <key>WorkingDirectory</key>${string(spec.workdir)}`,
    '  <key>EnvironmentVariables</key>',
    `  <dict><key>PATH</key>${string(spec.path)}</dict>`,
    '  <key>RunAtLoad</key><true/>',
    '  <key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>',
    '  <key>AbandonProcessGroup</key><true/>',
    '  <key>ExitTimeOut</key><integer>90</integer>',
    `  <key>StandardOutPath</key>${string(spec.logFile)}`,
    `  <key>StandardErrorPath</key>${string(spec.logFile)}`,
    '</dict>',
    '</plist>',
    '',
  ].join('\n')
}
