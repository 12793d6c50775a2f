/** Env variable a wrapper sets for its server child: the wrapper runs the fleet (it owns the tunnel), the child must not. */
export const FLEET_OWNER_ENV = 'AGENT_RUNTIME_FLEET_OWNER'
