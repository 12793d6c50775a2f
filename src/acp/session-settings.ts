import type { SessionConfigOption, SessionModeState } from '@agentclientprotocol/sdk'

/** What a session/new or session/load answer says about the session's settings. */
export interface SessionSettings {
  configOptions?: SessionConfigOption[] | null | undefined
  modes?: SessionModeState | null | undefined
  /** Legacy (removed from the schema, still sent by some agents): `session/set_model`. */
  models?: { currentModelId?: string, availableModels?: Array<{ modelId: string }> } | null | undefined
}

/** One request that applies a requested setting. */
export type SettingRequest = (
  | { method: 'session/set_config_option', params: { configId: string, value: string } }
  | { method: 'session/set_model', params: { modelId: string } }
  | { method: 'session/set_mode', params: { modeId: string } }
) & {
  setting: 'model' | 'effort' | 'mode'
  value: string
  /** True when a refusal only costs a warning and the run goes on (model and effort, as devpilot does). */
  optional: boolean
  /** The values the agent advertises for this setting, or null when it advertises none. */
  offered: string[] | null
}

/** A requested mode that the agent does not offer. */
export class SettingError extends Error {}

// Config option categories (and, for agents that set none, ids) that carry each setting.
const CATEGORY = { model: 'model', effort: 'thought_level', mode: 'mode' } as const
const IDS = { model: ['model'], effort: ['reasoning_effort', 'effort', 'thought_level'], mode: ['mode'] } as const
// The config option ids devpilot sends without looking at what the agent advertises.
const DEVPILOT_IDS = { model: 'model', effort: 'reasoning_effort' } as const

function values (option: SessionConfigOption): string[] {
  if (option.type !== 'select') return []
  return option.options.flatMap((o) => 'group' in o ? o.options.map((g) => g.value) : [o.value])
}

function findOption (options: readonly SessionConfigOption[], setting: keyof typeof CATEGORY): SessionConfigOption | undefined {
  return options.find((o) => o.type === 'select' && o.category === CATEGORY[setting]) ??
    options.find((o) => o.type === 'select' && (IDS[setting] as readonly string[]).includes(o.id))
}

function checkMode (value: string, offered: string[]): void {
  if (!offered.includes(value)) throw new SettingError(`the agent does not offer mode ${JSON.stringify(value)} (it offers: ${offered.join(', ') || 'none'})`)
}

/**
 * The requests that set the wanted model, effort and mode: through a config option when the agent
 * advertises one, else through the legacy `session/set_model` / `session/set_mode`; a value that
 * is already current needs no request. A model or effort the agent does not advertise is still
 * tried (through the config option, devpilot's id when none is advertised) and is `optional`: a
 * refusal is a warning. A mode the agent does not offer throws `SettingError`: running in another
 * mode than asked could give the agent more freedom than the caller wanted.
 */
export function settingRequests (session: SessionSettings, wanted: { model?: string | null | undefined, effort?: string | null | undefined, mode?: string | null | undefined }): SettingRequest[] {
  const requests: SettingRequest[] = []
  const options = session.configOptions ?? []
  for (const setting of ['model', 'effort', 'mode'] as const) {
    const value = wanted[setting]
    if (value === undefined || value === null || value === '') continue
    const optional = setting !== 'mode'
    const option = findOption(options, setting)
    if (option) {
      const offered = values(option)
      if (!optional) checkMode(value, offered)
      if (option.currentValue !== value) requests.push({ setting, value, optional, offered, method: 'session/set_config_option', params: { configId: option.id, value } })
    } else if (setting === 'model' && session.models?.availableModels) {
      if (session.models.currentModelId !== value) {
        const offered = session.models.availableModels.map((m) => m.modelId)
        requests.push({ setting, value, optional, offered, method: 'session/set_model', params: { modelId: value } })
      }
    } else if (setting === 'mode') {
      if (!session.modes) throw new SettingError('the agent offers no way to choose the mode')
      checkMode(value, session.modes.availableModes.map((m) => m.id))
      if (session.modes.currentModeId !== value) requests.push({ setting, value, optional, offered: null, method: 'session/set_mode', params: { modeId: value } })
    } else {
      requests.push({ setting, value, optional, offered: null, method: 'session/set_config_option', params: { configId: DEVPILOT_IDS[setting], value } })
    }
  }
  return requests
}

/** The warning recorded when the agent refused an optional setting; the run goes on. */
export function settingWarning (request: SettingRequest, refusal: string): string {
  const offered = request.offered === null ? 'it advertises no choice' : `it offers: ${request.offered.join(', ') || 'none'}`
  return `the agent did not take ${request.setting} ${JSON.stringify(request.value)} (${refusal}; ${offered}); going on with its current ${request.setting}`
}
