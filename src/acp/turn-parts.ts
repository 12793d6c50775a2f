import type { Logger } from '../logger.js'
import type { Sandbox } from './paths.js'
import { PermissionBroker } from './permission-broker.js'
import { SessionRecorder } from './recorder.js'
import type { MessageSender } from './stream-tap.js'
import { AcpTerminals } from './terminals.js'

/** What the agent's requests and updates go to: the turn running now (or the idle sink between turns). */
export interface TurnParts {
  readonly recorder: SessionRecorder
  readonly terminals: AcpTerminals
  readonly permissions: PermissionBroker
  /** The agent did something: the turn's idle clock starts again. */
  touch: () => void
  /** The agent process started; throws when the turn was stopped meanwhile. */
  spawned: (pid: number) => void
  onSession: (sessionId: string) => void
  onStderr: (chunk: Buffer) => void
  /** Every JSON-RPC message either way, for a turn that keeps a transcript. */
  onTranscript: (from: MessageSender, message: unknown) => void
}

/** The idle sink between turns: updates are kept only as session state; requests are refused; terminals end with the session. */
export function idleTurnParts (sandbox: Sandbox, env: NodeJS.ProcessEnv, log: Logger | undefined): TurnParts {
  const recorder = new SessionRecorder(undefined, 1)
  const permissions = new PermissionBroker({ policy: 'deny', sandbox, recorder })
  permissions.cancelAll('no prompt turn is running')
  return {
    recorder,
    permissions,
    terminals: new AcpTerminals(sandbox, env, undefined, log),
    touch: () => {},
    spawned: () => {},
    onSession: () => {},
    onStderr: () => {},
    onTranscript: () => {},
  }
}
