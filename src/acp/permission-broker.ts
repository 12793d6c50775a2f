import type { RequestPermissionOutcome, RequestPermissionRequest, RequestPermissionResponse, ToolCallUpdate } from '@agentclientprotocol/sdk'
import { setLongTimeout, type LongTimer } from '../lib/long-timer.js'
import type { Sandbox } from './paths.js'
import { judgeToolCall, outcomeFor, policyLabel, type PermissionPolicy } from './permissions.js'
import type { SessionRecorder } from './recorder.js'
import type { PendingPermission } from './types.js'
import { errorMessage } from '../lib/error-message.js'

const DEFAULT_PERMISSION_TIMEOUT_MS = 5 * 60_000

interface Decision {
  outcome: RequestPermissionOutcome
  decision: 'allow' | 'reject' | 'cancelled'
  reason: string
}

/** What the broker needs to decide. */
export interface BrokerOptions {
  policy: PermissionPolicy
  sandbox: Sandbox
  recorder: SessionRecorder
  ask?: ((request: PendingPermission) => Promise<string | null>) | undefined
  askTimeoutMs?: number | undefined
}

const cancelled = (reason: string): Decision => ({ outcome: { outcome: 'cancelled' }, decision: 'cancelled', reason })

/**
 * Answers the agent's permission requests per policy, always with one of the agent's own options
 * (or `cancelled` once the turn is being cancelled). Any number may be pending at once.
 */
export class PermissionBroker {
  readonly #options: BrokerOptions
  readonly #pending = new Map<string, (decision: Decision) => void>()
  #next = 1
  #cancelled: string | null = null

  constructor (options: BrokerOptions) {
    this.#options = options
  }

  /** How many requests wait for a person right now (the idle clock does not run meanwhile). */
  get waiting (): number {
    return this.#pending.size
  }

  /** The turn is being cancelled: every pending request, and every later one, is answered `cancelled`. */
  cancelAll (reason: string): void {
    this.#cancelled = reason
    for (const resolve of this.#pending.values()) resolve(cancelled(reason))
  }

  async decide (params: RequestPermissionRequest, rpcSignal: AbortSignal): Promise<RequestPermissionResponse> {
    const { recorder, policy, sandbox } = this.#options
    const requestId = `perm-${this.#next++}`
    const known = recorder.mergeToolCall(params.toolCall, false)
    let decision: Decision
    if (this.#cancelled !== null) {
      decision = cancelled(this.#cancelled)
    } else {
      // Why: the request's own description and the call as known so far must both pass.
      const asked = { ...params.toolCall, kind: params.toolCall.kind ?? known.kind ?? null }
      const verdicts = [judgeToolCall(policy, asked, sandbox), judgeToolCall(policy, known as ToolCallUpdate, sandbox)]
      const verdict = verdicts.find((v) => v.verdict === 'reject') ?? verdicts[0] as (typeof verdicts)[number]
      decision = verdict.verdict === 'ask'
        ? await this.#ask(requestId, params, known, rpcSignal)
        : { outcome: outcomeFor(verdict.verdict, params.options), decision: verdict.verdict, reason: verdict.reason }
    }
    const { outcome } = decision
    recorder.record('permission', {
      requestId,
      toolCallId: params.toolCall.toolCallId,
      title: params.toolCall.title ?? known.title ?? null,
      kind: params.toolCall.kind ?? known.kind ?? null,
      policy: policyLabel(policy),
      decision: outcome.outcome === 'cancelled' ? 'cancelled' : decision.decision,
      optionId: outcome.outcome === 'selected' ? outcome.optionId : null,
      reason: decision.reason,
    })
    return { outcome }
  }

  async #ask (requestId: string, params: RequestPermissionRequest, toolCall: PendingPermission['toolCall'], rpcSignal: AbortSignal): Promise<Decision> {
    const { ask, recorder } = this.#options
    const reject = (reason: string): Decision => ({ outcome: outcomeFor('reject', params.options), decision: 'reject', reason })
    if (!ask) return reject('policy ask, but nobody can be asked')
    const timeoutMs = this.#options.askTimeoutMs ?? DEFAULT_PERMISSION_TIMEOUT_MS
    const waiting = new AbortController()
    recorder.record('permission_request', { requestId, toolCall, options: params.options, timeoutSec: timeoutMs / 1000 })
    let timer: LongTimer | undefined
    const onRpcCancel = (): void => this.#pending.get(requestId)?.(cancelled('the agent withdrew the request'))
    try {
      return await new Promise<Decision>((resolve) => {
        this.#pending.set(requestId, resolve)
        timer = setLongTimeout(() => resolve(reject(`no answer within ${timeoutMs / 1000} s`)), timeoutMs)
        rpcSignal.addEventListener('abort', onRpcCancel)
        if (rpcSignal.aborted) onRpcCancel()
        ask({ requestId, toolCall, options: params.options, signal: waiting.signal }).then((optionId) => {
          const option = params.options.find((o) => o.optionId === optionId)
          if (optionId === null || !option) return resolve(reject('answered: reject'))
          const decision = option.kind.startsWith('allow') ? 'allow' : 'reject'
          resolve({ outcome: { outcome: 'selected', optionId: option.optionId }, decision, reason: `answered: ${option.optionId}` })
        }, (err: unknown) => resolve(reject(`asking failed: ${errorMessage(err)}`)))
      })
    } finally {
      timer?.clear()
      rpcSignal.removeEventListener('abort', onRpcCancel)
      this.#pending.delete(requestId)
      waiting.abort()
    }
  }
}
