import type { SessionConfigOption, SessionModeState } from '@agentclientprotocol/sdk'

/** What a session/new or session/load answer says about the session's settings. */
export interface SessionSettings {
  configOptions?: SessionConfigOption[] | null | undefined
  modes?: SessionModeState | null | undefined
  /** Legacy (removed from the schema, still sent by some agents): `session/set_model`. */
  models?: { currentModelId?: string, availableModels?: Array<{ modelId: string }> } | null | undefined
}

/** One request that applies a requested setting. */
export type SettingRequest =
  | { setting: string, method: 'session/set_config_option', params: { configId: string, value: string } }
  | { setting: string, method: 'session/set_model', params: { modelId: string } }
  | { setting: string, method: 'session/set_mode', params: { modeId: string } }

/** A requested model, effort or mode that the agent does not offer. */
export class SettingError extends Error {}

// Config option categories (and, for agents that set none, ids) that carry each setting.
const CATEGORY = { model: 'model', effort: 'thought_level', mode: 'mode' } as const
const IDS = { model: ['model'], effort: ['reasoning_effort', 'effort', 'thought_level'], mode: ['mode'] } as const

function values (option: SessionConfigOption): string[] {
  if (option.type !== 'select') return []
  return option.options.flatMap((o) => 'group' in o ? o.options.map((g) => g.value) : [o.value])
}

function findOption (options: readonly SessionConfigOption[], setting: keyof typeof CATEGORY): SessionConfigOption | undefined {
  return options.find((o) => o.type === 'select' && o.category === CATEGORY[setting]) ??
    options.find((o) => o.type === 'select' && (IDS[setting] as readonly string[]).includes(o.id))
}

function check (setting: string, value: string, offered: string[]): void {
  if (!offered.includes(value)) throw new SettingError(`the agent does not offer ${setting} ${JSON.stringify(value)} (it offers: ${offered.join(', ') || 'none'})`)
}

/**
 * The requests that set the wanted model, effort and mode: through a config option when the agent
 * advertises one, else through the legacy `session/set_model` / `session/set_mode`. Each value is
 * checked against what the agent offers; a value that is already current needs no request.
 */
export function settingRequests (session: SessionSettings, wanted: { model?: string | null | undefined, effort?: string | null | undefined, mode?: string | null | undefined }): SettingRequest[] {
  const requests: SettingRequest[] = []
  const options = session.configOptions ?? []
  for (const setting of ['model', 'effort', 'mode'] as const) {
    const value = wanted[setting]
    if (value === undefined || value === null || value === '') continue
    const option = findOption(options, setting)
    if (option) {
      check(setting, value, values(option))
      if (option.currentValue !== value) requests.push({ setting, method: 'session/set_config_option', params: { configId: option.id, value } })
    } else if (setting === 'model' && session.models?.availableModels) {
      check(setting, value, session.models.availableModels.map((m) => m.modelId))
      if (session.models.currentModelId !== value) requests.push({ setting, method: 'session/set_model', params: { modelId: value } })
    } else if (setting === 'mode' && session.modes) {
      check(setting, value, session.modes.availableModes.map((m) => m.id))
      if (session.modes.currentModeId !== value) requests.push({ setting, method: 'session/set_mode', params: { modeId: value } })
    } else {
      throw new SettingError(`the agent offers no way to choose the ${setting}`)
    }
  }
  return requests
}
