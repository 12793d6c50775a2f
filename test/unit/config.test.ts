import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, describe, test } from 'node:test'
import { ConfigError, DEFAULTS, loadConfig, resolveStateDir } from '../../src/config.js'

const dir = mkdtempSync(join(tmpdir(), 'agent-runtime-config-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const certPath = join(dir, 'cert.pem')
const keyPath = join(dir, 'key.pem')
writeFileSync(certPath, 'CERT')
writeFileSync(keyPath, 'KEY')

/** Asserts that loading throws a ConfigError whose message matches `pattern`. */
function assertConfigError (load: () => unknown, pattern: RegExp): void {
  assert.throws(load, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`)
    assert.match(err.message, pattern)
    return true
  })
}

describe('loadConfig', () => {
  test('with no flags and no env every setting has its default', () => {
    const config = loadConfig({}, {})
    assert.deepEqual({ ...config, corsOrigins: [...config.corsOrigins] }, {
      port: 8585,
      host: '127.0.0.1',
      stateDir: DEFAULTS.stateDir,
      logLevel: 'info',
      maxConcurrentJobs: 32,
      maxPendingJobs: 1000,
      maxInlineOutputBytes: 1024 * 1024,
      killGraceMs: 5000,
      jobRetention: 1000,
      jobRetentionDays: 7,
      corsOrigins: [],
      tls: null,
      terminalPort: { port: 8586, explicit: false },
      maxTerminals: 8,
      terminalOrphanTtlMs: 300_000,
      terminalIdleTimeoutMs: 900_000,
      terminalLifetimeMs: 3_600_000,
      maxSessions: 32,
      sessionIdleTimeoutMs: 0,
      acpIdleTtlMs: 300_000,
      maxAcpSessions: 16,
      updateCommand: null,
      rollbackCommand: null,
      updateRef: null,
      fleet: { tunnel: null, tunnelId: null, register: null, name: hostname(), heartbeatIntervalMs: 60_000, tokenRefreshIntervalMs: 72_000_000 },
      filesRoot: process.cwd(),
      filesConfine: false,
      maxUploadBytes: null,
      acpAgents: {},
    })
  })

  test('--acp-agents maps agent names to command lines (flag or env); anything but a JSON object of command lines exits 78', () => {
    assert.deepEqual(loadConfig({ acpAgents: '{"Claude": "npx -y @zed-industries/claude-agent-acp", "mine": "/opt/mine --acp"}' }, {}).acpAgents,
      { claude: 'npx -y @zed-industries/claude-agent-acp', mine: '/opt/mine --acp' })
    assert.deepEqual(loadConfig({}, { AGENT_RUNTIME_ACP_AGENTS: '{"gemini": "gemini --acp --no-fs"}' }).acpAgents, { gemini: 'gemini --acp --no-fs' })
    assertConfigError(() => loadConfig({ acpAgents: '[1]' }, {}), /--acp-agents must be a JSON object of agent names to command lines/)
    assertConfigError(() => loadConfig({}, { AGENT_RUNTIME_ACP_AGENTS: '{"x": ""}' }), /AGENT_RUNTIME_ACP_AGENTS the command of agent "x" must be a non-empty command line/)
  })

  test('the files flags resolve the root, read the confinement switch and the upload limit, flag or env', () => {
    const fromFlags = loadConfig({ filesRoot: 'sub/dir', filesConfine: true as unknown as string, maxUploadBytes: '1024' }, {})
    assert.equal(fromFlags.filesRoot, resolve('sub/dir'))
    assert.equal(fromFlags.filesConfine, true)
    assert.equal(fromFlags.maxUploadBytes, 1024)
    const fromEnv = loadConfig({}, { AGENT_RUNTIME_FILES_ROOT: '/srv', AGENT_RUNTIME_FILES_CONFINE: '1', AGENT_RUNTIME_MAX_UPLOAD_BYTES: '0' })
    assert.deepEqual([fromEnv.filesRoot, fromEnv.filesConfine, fromEnv.maxUploadBytes], ['/srv', true, null])
    assert.throws(() => loadConfig({}, { AGENT_RUNTIME_FILES_CONFINE: 'maybe' }), ConfigError)
    assert.throws(() => loadConfig({ maxUploadBytes: '-1' }, {}), ConfigError)
  })

  test("the session limits come from their flags, then our env, then devpilot's env read as devpilot read it; bad values of ours exit 78", () => {
    assert.equal(loadConfig({ maxSessions: '4' }, { AGENT_RUNTIME_MAX_SESSIONS: '5', DEVPILOT_PERSISTENT_SHELL_MAX_SESSIONS: '6' }).maxSessions, 4)
    assert.equal(loadConfig({}, { AGENT_RUNTIME_MAX_SESSIONS: '5', DEVPILOT_PERSISTENT_SHELL_MAX_SESSIONS: '6' }).maxSessions, 5)
    assert.equal(loadConfig({}, { DEVPILOT_PERSISTENT_SHELL_MAX_SESSIONS: '6' }).maxSessions, 6)
    assert.equal(loadConfig({}, { DEVPILOT_PERSISTENT_SHELL_MAX_SESSIONS: '-3' }).maxSessions, 1)
    assert.equal(loadConfig({}, { DEVPILOT_PERSISTENT_SHELL_MAX_SESSIONS: 'many' }).maxSessions, 32)
    assert.equal(loadConfig({ sessionIdleTimeout: '2.5' }, {}).sessionIdleTimeoutMs, 2500)
    assert.equal(loadConfig({ acpIdleTtl: '0' }, {}).acpIdleTtlMs, 0)
    assert.equal(loadConfig({}, { AGENT_RUNTIME_ACP_IDLE_TTL: '1.5' }).acpIdleTtlMs, 1500)
    assert.equal(loadConfig({}, { DEVPILOT_PERSISTENT_SHELL_IDLE_TIMEOUT_SECONDS: '90' }).sessionIdleTimeoutMs, 90_000)
    assert.equal(loadConfig({}, { DEVPILOT_PERSISTENT_SHELL_IDLE_TIMEOUT_SECONDS: '-1' }).sessionIdleTimeoutMs, 0)
    assert.throws(() => loadConfig({ maxSessions: '0' }, {}), /--max-sessions must be between 1 and 10000, got 0/)
    assert.throws(() => loadConfig({}, { AGENT_RUNTIME_SESSION_IDLE_TIMEOUT: 'soon' }), ConfigError)
  })

  test('the terminal port is port + 1 by default, off with 0 or with an ephemeral --port 0, and never the main port', () => {
    assert.deepEqual(loadConfig({ port: '9000' }, {}).terminalPort, { port: 9001, explicit: false })
    assert.equal(loadConfig({ port: '9000', terminalPort: '0' }, {}).terminalPort, null)
    assert.equal(loadConfig({ port: '0' }, {}).terminalPort, null)
    assert.deepEqual(loadConfig({ port: '0', terminalPort: '7000' }, {}).terminalPort, { port: 7000, explicit: true })
    assert.throws(() => loadConfig({ port: '9000', terminalPort: '9000' }, {}), ConfigError)
    assert.throws(() => loadConfig({ maxTerminals: '-1' }, {}), ConfigError)
  })

  test('every setting can be given by its environment variable', () => {
    const config = loadConfig({}, {
      AGENT_RUNTIME_PORT: '9000',
      AGENT_RUNTIME_HOST: '0.0.0.0',
      AGENT_RUNTIME_HOME: dir,
      AGENT_RUNTIME_LOG_LEVEL: 'debug',
      AGENT_RUNTIME_MAX_CONCURRENT_JOBS: '4',
      AGENT_RUNTIME_MAX_PENDING_JOBS: '10',
      AGENT_RUNTIME_MAX_INLINE_OUTPUT: '2048',
      AGENT_RUNTIME_KILL_GRACE: '2',
      AGENT_RUNTIME_JOB_RETENTION: '50',
      AGENT_RUNTIME_JOB_RETENTION_DAYS: '3',
      AGENT_RUNTIME_CORS_ORIGINS: 'https://a.example.com, http://localhost:3000',
      AGENT_RUNTIME_TLS_CERT: certPath,
      AGENT_RUNTIME_TLS_KEY: keyPath,
      AGENT_RUNTIME_TERMINAL_PORT: '9100',
      AGENT_RUNTIME_MAX_TERMINALS: '3',
      AGENT_RUNTIME_TERMINAL_ORPHAN_TTL: '10',
      AGENT_RUNTIME_TERMINAL_IDLE_TIMEOUT: '20',
      AGENT_RUNTIME_TERMINAL_LIFETIME: '30',
    })
    assert.deepEqual(config.terminalPort, { port: 9100, explicit: true })
    assert.equal(config.maxTerminals, 3)
    assert.equal(config.terminalOrphanTtlMs, 10_000)
    assert.equal(config.terminalIdleTimeoutMs, 20_000)
    assert.equal(config.terminalLifetimeMs, 30_000)
    assert.equal(config.port, 9000)
    assert.equal(config.host, '0.0.0.0')
    assert.equal(config.stateDir, dir)
    assert.equal(config.logLevel, 'debug')
    assert.equal(config.maxConcurrentJobs, 4)
    assert.equal(config.maxPendingJobs, 10)
    assert.equal(config.maxInlineOutputBytes, 2048)
    assert.equal(config.killGraceMs, 2000)
    assert.equal(config.jobRetention, 50)
    assert.equal(config.jobRetentionDays, 3)
    assert.deepEqual([...config.corsOrigins], ['https://a.example.com', 'http://localhost:3000'])
    assert.equal(config.tls?.cert.toString(), 'CERT')
    assert.equal(config.tls?.key.toString(), 'KEY')
  })

  test('every setting can be given as a CLI option', () => {
    const config = loadConfig({
      port: '9001',
      host: '::1',
      stateDir: dir,
      logLevel: 'warn',
      maxConcurrentJobs: '2',
      maxPendingJobs: '0',
      maxInlineOutput: '4096',
      killGrace: '1',
      jobRetention: '5',
      jobRetentionDays: '1',
      corsOrigin: ['https://a.example.com', 'https://b.example.com'],
      tlsCert: certPath,
      tlsKey: keyPath,
    }, {})
    assert.equal(config.port, 9001)
    assert.equal(config.host, '::1')
    assert.equal(config.stateDir, dir)
    assert.equal(config.logLevel, 'warn')
    assert.equal(config.maxConcurrentJobs, 2)
    assert.equal(config.maxPendingJobs, 0)
    assert.equal(config.maxInlineOutputBytes, 4096)
    assert.equal(config.killGraceMs, 1000)
    assert.equal(config.jobRetention, 5)
    assert.equal(config.jobRetentionDays, 1)
    assert.deepEqual([...config.corsOrigins], ['https://a.example.com', 'https://b.example.com'])
    assert.equal(config.tls?.cert.toString(), 'CERT')
  })

  test('a CLI option beats its environment variable, which beats the default', () => {
    const env = { AGENT_RUNTIME_PORT: '9000', AGENT_RUNTIME_LOG_LEVEL: 'debug' }
    const config = loadConfig({ port: '9100' }, env)
    assert.equal(config.port, 9100)
    assert.equal(config.logLevel, 'debug')
    assert.equal(config.host, '127.0.0.1')
  })

  test('CLI CORS origins replace the environment list instead of adding to it', () => {
    const config = loadConfig({ corsOrigin: ['https://cli.example.com'] }, { AGENT_RUNTIME_CORS_ORIGINS: 'https://env.example.com' })
    assert.deepEqual([...config.corsOrigins], ['https://cli.example.com'])
  })

  test('an empty environment variable counts as not set', () => {
    const config = loadConfig({}, { AGENT_RUNTIME_PORT: '', AGENT_RUNTIME_HOST: '', AGENT_RUNTIME_CORS_ORIGINS: '' })
    assert.equal(config.port, 8585)
    assert.equal(config.host, '127.0.0.1')
    assert.deepEqual([...config.corsOrigins], [])
  })

  test('a relative state directory is made absolute', () => {
    assert.equal(loadConfig({ stateDir: 'some/state' }, {}).stateDir, resolve('some/state'))
  })

  test('port 0 (pick a free port) is accepted', () => {
    assert.equal(loadConfig({ port: '0' }, {}).port, 0)
  })

  test('kill grace is given in seconds and returned in milliseconds', () => {
    assert.equal(loadConfig({ killGrace: '0.25' }, {}).killGraceMs, 250)
    assert.equal(loadConfig({ killGrace: '0' }, {}).killGraceMs, 0)
    assert.equal(loadConfig({}, { AGENT_RUNTIME_KILL_GRACE: '1.5' }).killGraceMs, 1500)
  })

  test('a CORS origin with a trailing slash is accepted as the bare origin', () => {
    assert.deepEqual([...loadConfig({ corsOrigin: ['https://x.example.com/'] }, {}).corsOrigins], ['https://x.example.com'])
  })

  test('the result is frozen, including the CORS origin list', () => {
    const config = loadConfig({ corsOrigin: ['https://a.example.com'] }, {})
    assert.ok(Object.isFrozen(config))
    assert.ok(Object.isFrozen(config.corsOrigins))
    assert.throws(() => { (config as { port: number }).port = 1 }, TypeError)
  })

  describe('bad values throw a ConfigError naming the flag or variable', () => {
    test('a port that is not an integer is refused', () => {
      assertConfigError(() => loadConfig({ port: 'http' }, {}), /^--port must be an integer, got "http"$/)
      assertConfigError(() => loadConfig({ port: '80.5' }, {}), /--port must be an integer/)
      assertConfigError(() => loadConfig({}, { AGENT_RUNTIME_PORT: 'abc' }), /^AGENT_RUNTIME_PORT must be an integer, got "abc"$/)
    })

    test('a port above 65535 is refused', () => {
      assertConfigError(() => loadConfig({ port: '70000' }, {}), /^--port must be between 0 and 65535, got 70000$/)
    })

    test('a negative number is refused', () => {
      assertConfigError(() => loadConfig({ port: '-1' }, {}), /--port must be between 0 and 65535, got -1/)
      assertConfigError(() => loadConfig({ killGrace: '-1' }, {}), /--kill-grace must be between 0 and 3600, got -1/)
      assertConfigError(() => loadConfig({}, { AGENT_RUNTIME_MAX_CONCURRENT_JOBS: '-3' }), /AGENT_RUNTIME_MAX_CONCURRENT_JOBS must be between/)
    })

    test('a kill grace that is not a number is refused', () => {
      assertConfigError(() => loadConfig({ killGrace: 'soon' }, {}), /^--kill-grace must be a number, got "soon"$/)
      assertConfigError(() => loadConfig({ killGrace: ' ' }, {}), /--kill-grace must be a number/)
    })

    test('zero concurrent jobs is refused', () => {
      assertConfigError(() => loadConfig({ maxConcurrentJobs: '0' }, {}), /--max-concurrent-jobs must be between 1 and/)
    })

    test('an empty or blank host is refused', () => {
      assertConfigError(() => loadConfig({ host: '' }, {}), /^--host must not be empty$/)
      assertConfigError(() => loadConfig({}, { AGENT_RUNTIME_HOST: '   ' }), /^AGENT_RUNTIME_HOST must not be empty$/)
    })

    test('an unknown log level is refused with the list of valid ones', () => {
      assertConfigError(() => loadConfig({ logLevel: 'verbose' }, {}),
        /^--log-level must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"$/)
    })

    test('a CORS origin without a scheme is refused', () => {
      assertConfigError(() => loadConfig({ corsOrigin: ['example.com'] }, {}), /--cors-origin must be an origin like https:\/\/example.com, got "example.com"/)
    })

    test('a CORS origin with a path is refused', () => {
      assertConfigError(() => loadConfig({ corsOrigin: ['https://x.com/path'] }, {}), /--cors-origin must be an origin .*scheme, host, port only.*"https:\/\/x.com\/path"/)
    })

    test('a bad origin in the comma-separated environment list is refused', () => {
      assertConfigError(() => loadConfig({}, { AGENT_RUNTIME_CORS_ORIGINS: 'https://ok.example.com,example.com' }),
        /AGENT_RUNTIME_CORS_ORIGINS must be an origin/)
    })

    test('a TLS certificate without a key is refused', () => {
      assertConfigError(() => loadConfig({ tlsCert: certPath }, {}), /^--tls-cert and --tls-key must be given together$/)
    })

    test('a TLS key without a certificate is refused', () => {
      assertConfigError(() => loadConfig({}, { AGENT_RUNTIME_TLS_KEY: keyPath }), /--tls-cert and --tls-key must be given together/)
    })

    test('a TLS file that cannot be read is refused with its path and the reason', () => {
      const missing = join(dir, 'missing.pem')
      assertConfigError(() => loadConfig({ tlsCert: missing, tlsKey: keyPath }, {}), new RegExp(`^--tls-cert: cannot read ${missing}: ENOENT$`))
      assertConfigError(() => loadConfig({ tlsCert: certPath, tlsKey: dir }, {}), /^--tls-key: cannot read .*: EISDIR$/)
    })

    test('a TLS file without read permission is refused', { skip: process.getuid?.() === 0 ? 'root can read any file' : false }, () => {
      const secret = join(dir, 'secret.pem')
      writeFileSync(secret, 'KEY')
      chmodSync(secret, 0o000)
      assertConfigError(() => loadConfig({ tlsCert: certPath, tlsKey: secret }, {}), /^--tls-key: cannot read .*: EACCES$/)
    })
  })
})

describe('resolveStateDir', () => {
  test('the flag wins over AGENT_RUNTIME_HOME, which wins over ~/.agent-runtime; the result is absolute', () => {
    assert.equal(resolveStateDir('flag/dir', { AGENT_RUNTIME_HOME: '/env/dir' }), resolve('flag/dir'))
    assert.equal(resolveStateDir(undefined, { AGENT_RUNTIME_HOME: '/env/dir' }), '/env/dir')
    assert.equal(resolveStateDir(undefined, { AGENT_RUNTIME_HOME: '' }), DEFAULTS.stateDir)
    assert.equal(resolveStateDir(undefined, {}), DEFAULTS.stateDir)
  })

  test('it gives the same directory as the full configuration, without reading other settings', () => {
    const env = { AGENT_RUNTIME_HOME: 'rel/home', AGENT_RUNTIME_PORT: 'not-a-port' }
    assert.equal(resolveStateDir(undefined, env), loadConfig({}, { AGENT_RUNTIME_HOME: 'rel/home' }).stateDir)
  })

  test('an empty --state-dir is refused like in the server configuration', () => {
    assert.throws(() => resolveStateDir('  ', {}), ConfigError)
  })
})
