// The environment variables that hold the server's secrets: read by auth, kept from every child.

/** Where the API key may come from, in order (devpilot's spelling second). */
export const KEY_ENV_VARS = ['AGENT_RUNTIME_API_KEY', 'agent_runtime_API_KEY'] as const

/** Every variable that holds a secret of the server and never reaches a child process. */
export const SECRET_ENV_VARS: readonly string[] = [...KEY_ENV_VARS, 'DEVPILOT_TUNNEL_TOKEN']
