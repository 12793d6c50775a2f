import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import { Errors } from '../errors.js'

// Why: the same relative path works from src/terminal (tsx) and dist/terminal (built).
const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url))
const require = createRequire(import.meta.url)

// The page's files: ours from web/, xterm.js from the installed packages (no CDN).
const ASSETS: Readonly<Record<string, { path: () => string, type: string }>> = {
  'index.html': { path: () => WEB_DIR + 'index.html', type: 'text/html; charset=utf-8' },
  'terminal.js': { path: () => WEB_DIR + 'terminal.js', type: 'text/javascript; charset=utf-8' },
  'terminal.css': { path: () => WEB_DIR + 'terminal.css', type: 'text/css; charset=utf-8' },
  'xterm.js': { path: () => require.resolve('@xterm/xterm/lib/xterm.js'), type: 'text/javascript; charset=utf-8' },
  'xterm.css': { path: () => require.resolve('@xterm/xterm/css/xterm.css'), type: 'text/css; charset=utf-8' },
  'addon-fit.js': { path: () => require.resolve('@xterm/addon-fit/lib/addon-fit.js'), type: 'text/javascript; charset=utf-8' },
}

// Why: xterm.js adds <style> elements at run time, hence 'unsafe-inline' for styles only.
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
}

/** GET / and /ui: the web terminal page, and /ui/<file> its assets; public (the page asks for the key). */
export function registerTerminalPage (app: FastifyInstance): void {
  const cache = new Map<string, Buffer>()
  const serve = (name: string): { type: string, body: Buffer } => {
    const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined
    if (!asset) throw new Errors.NOT_FOUND()
    let body = cache.get(name)
    if (!body) {
      body = readFileSync(asset.path())
      cache.set(name, body)
    }
    return { type: asset.type, body }
  }
  const page = { config: { public: true } }
  for (const path of ['/', '/ui', '/ui/']) {
    app.get(path, page, async (request, reply) => {
      const { type, body } = serve('index.html')
      return reply.headers(PAGE_HEADERS).type(type).send(body)
    })
  }
  app.get('/ui/:file', page, async (request, reply) => {
    const { type, body } = serve((request.params as { file: string }).file)
    return reply.headers(PAGE_HEADERS).type(type).send(body)
  })
}
