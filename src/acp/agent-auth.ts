import { RequestError, type AuthMethod } from '@agentclientprotocol/sdk'

// The ACP error code for "authentication required".
const AUTH_REQUIRED = -32000

/** Names of environment variables that would hold an auth method's credentials. */
export function authVars (method: { id: string, vars?: Array<{ name?: string }> }): string[] {
  const named = (method.vars ?? []).map((v) => v.name).filter((n): n is string => typeof n === 'string')
  return [method.id.toUpperCase().replace(/[^A-Z0-9]/g, '_'), ...named]
}

/** The first advertised method the agent can use by itself whose credentials are in `env`, if any. */
export function usableAuthMethod (methods: readonly AuthMethod[], env: NodeJS.ProcessEnv): AuthMethod | undefined {
  return methods.find((m) => {
    const type = (m as { type?: string }).type
    const vars = (m as { vars?: Array<{ name?: string }> }).vars
    return (type === undefined || type === 'agent' || type === 'env_var') && authVars({ id: m.id, ...(vars ? { vars } : {}) }).some((v) => env[v])
  })
}

/** How `withAuth` authenticates. */
export interface AuthContext {
  methods: readonly AuthMethod[]
  env: NodeJS.ProcessEnv
  /** Sends `authenticate` with this method id. */
  authenticate: (methodId: string) => Promise<void>
}

/**
 * Runs an agent request; on "authentication required" (-32000, the RequestError being the
 * rejection's `cause`) authenticates once with an advertised method whose credentials are in the
 * environment (a variable named after the method id, or one the method names) and retries, or
 * fails with a clear error.
 */
export async function withAuth<T> (auth: AuthContext, request: () => Promise<T>): Promise<T> {
  try {
    return await request()
  } catch (err) {
    const cause = (err as Error).cause
    if (!(cause instanceof RequestError) || cause.code !== AUTH_REQUIRED) throw err
    const usable = usableAuthMethod(auth.methods, auth.env)
    if (!usable) {
      const offered = auth.methods.map((m) => m.id).join(', ') || 'none advertised'
      throw new Error(`the agent requires authentication (${cause.message}); log the agent in on this machine or pass its credentials in env (methods: ${offered})`, { cause })
    }
    await auth.authenticate(usable.id)
    return await request()
  }
}
