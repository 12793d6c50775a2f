import type { Logger } from '../logger.js'
import { AgentSession } from './agent-session.js'
import { AcpTurn } from './turn.js'
import { DEFAULT_AGENT, type AcpResult, type RunAcpOptions } from './types.js'

export { DEFAULT_AGENT }

/**
 * One ACP run: start the agent, open the session (`session/new`, or `session/load` with
 * `sessionId`), one prompt turn, then end the agent's process group. Resolves once the process is
 * gone and never throws: failures are in `error`.
 */
export async function runAcpSession (options: RunAcpOptions & { log?: Logger }): Promise<AcpResult> {
  const session = new AgentSession(options)
  const turn = new AcpTurn(session, options)
  return await turn.run(async () => {
    await session.start()
    await session.open(options.sessionId ? { how: 'load', sessionId: options.sessionId } : { how: 'new' }, options)
  }, () => session.close())
}
