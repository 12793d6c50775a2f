import type { Command } from 'commander'
import { DEFAULT_URL, RuntimeClient } from '../client/index.js'
import { readContexts, writeContexts, contextFilePath } from './contexts.js'
import type { CommandIo } from './io.js'

const ENTER = /[\r\n]/
const CTRL_C = '\u0003'
const BACKSPACE = new Set(['\u0008', '\u007f'])

/** Reads a key typed on the terminal without echoing it. */
async function readHidden (io: CommandIo & { stdin: CommandIo['stdin'] & { setRawMode?: (raw: boolean) => void } }, prompt: string): Promise<string> {
  io.stderr.write(prompt)
  io.stdin.setRawMode?.(true)
  io.stdin.resume()
  let typed = ''
  try {
    return await new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer | string): void => {
        for (const char of chunk.toString()) {
          if (char === CTRL_C) { io.stdin.off('data', onData); reject(new Error('cancelled')); return }
          if (ENTER.test(char)) { io.stdin.off('data', onData); resolve(typed); return }
          typed = BACKSPACE.has(char) ? typed.slice(0, -1) : typed + char
        }
      }
      io.stdin.on('data', onData)
    })
  } finally {
    io.stdin.setRawMode?.(false)
    io.stdin.pause()
    io.stderr.write('\n')
  }
}

async function readAll (io: CommandIo): Promise<string> {
  let text = ''
  for await (const chunk of io.stdin) text += chunk.toString()
  return text
}

/** The name a context gets by default: the URL's host and port. */
const defaultName = (url: string): string => new URL(url).host

/** Adds `login`, `logout` and `context list|use|remove` (saved servers, like kubectl contexts). */
export function addContextCommands (program: Command, io: CommandIo, env: NodeJS.ProcessEnv, done: (code: number) => void): void {
  program.command('login')
    .description('save a server URL and its API key as a context and use it (key read hidden, or from stdin)')
    .option('--url <url>', 'server URL (default AGENT_RUNTIME_URL, else http://127.0.0.1:8585)')
    .option('--name <name>', 'context name (default: the URL\'s host:port)')
    .option('--key-stdin', 'read the key from stdin instead of asking')
    .action(async (flags: { url?: string, name?: string, keyStdin?: boolean }) => {
      const url = flags.url ?? (env.AGENT_RUNTIME_URL || DEFAULT_URL)
      let name: string
      try { name = flags.name ?? defaultName(url) } catch { throw new Error(`not a URL: ${url}`) }
      if (flags.keyStdin !== true && io.stdin.isTTY !== true) throw new Error('no terminal to ask for the key: pass --key-stdin and pipe it')
      const key = (flags.keyStdin === true ? await readAll(io) : await readHidden(io, `API key for ${url}: `)).trim()
      if (key === '') throw new Error('empty key: nothing saved')
      const health = await new RuntimeClient({ url, apiKey: key }).health()
      if (!health.authenticated) throw new Error(`the server at ${url} refused the API key: nothing saved`)
      const file = readContexts(env)
      writeContexts(env, { current: name, contexts: { ...file.contexts, [name]: { url, key } } })
      io.stdout.write(`saved context ${name} (${url}) in ${contextFilePath(env)} and switched to it\n`)
      done(0)
    })

  const remove = (name: string | undefined): void => {
    const file = readContexts(env)
    const target = name ?? file.current
    if (target === undefined || !(target in file.contexts)) throw new Error(`no saved context ${target ?? '(none in use)'}`)
    const { [target]: _removed, ...rest } = file.contexts
    writeContexts(env, { current: file.current === target ? undefined : file.current, contexts: rest })
    io.stdout.write(`removed context ${target}\n`)
    done(0)
  }
  program.command('logout')
    .description('remove a saved context and its key (default: the one in use)')
    .argument('[name]', 'context name')
    .action((name: string | undefined) => remove(name))

  const context = program.command('context').description('list, switch or remove saved servers (see login)')
  context.command('list').alias('ls').description('the saved contexts; * marks the one in use')
    .action(() => {
      const file = readContexts(env)
      for (const [name, saved] of Object.entries(file.contexts)) io.stdout.write(`${name === file.current ? '*' : ' '} ${name}\t${saved.url}\n`)
      done(0)
    })
  context.command('use').description('use this saved context from now on').argument('<name>', 'context name')
    .action((name: string) => {
      const file = readContexts(env)
      if (!(name in file.contexts)) throw new Error(`no saved context ${name} (saved: ${Object.keys(file.contexts).join(', ') || 'none'})`)
      writeContexts(env, { ...file, current: name })
      io.stdout.write(`using context ${name} (${file.contexts[name]?.url ?? ''})\n`)
      done(0)
    })
  context.command('remove').alias('rm').description('remove a saved context and its key').argument('<name>', 'context name')
    .action((name: string) => remove(name))
}
