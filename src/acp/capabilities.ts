import { RequestError, type ClientCapabilities } from '@agentclientprotocol/sdk'

/** Which client services a run offers the agent (both by default). */
export interface CapabilitySwitches {
  fs?: boolean | undefined
  terminal?: boolean | undefined
}

/** The `clientCapabilities` of `initialize`: only what is switched on is advertised. */
export function clientCapabilitiesFor (switches: CapabilitySwitches = {}): ClientCapabilities {
  return {
    ...(switches.fs !== false ? { fs: { readTextFile: true, writeTextFile: true } } : {}),
    ...(switches.terminal !== false ? { terminal: true } : {}),
  }
}

/** Throws the -32601 an agent gets for a service that is switched off (and so was not advertised). */
export function requireCapability (switches: CapabilitySwitches, service: 'fs' | 'terminal', method: string): void {
  if (switches[service] === false) throw RequestError.methodNotFound(method)
}
