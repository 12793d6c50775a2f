import neostandard from 'neostandard'
import importX, { createNodeResolver } from 'eslint-plugin-import-x'

// Imports run one way (DESIGN §1): lib ← exec ← jobs → output, no feature imports another
// feature's routes.ts, and the client sees only the wire contract. exec may also use the
// top-level logger (the Logger type); nothing below jobs may use errors.ts, config.ts or a feature.
const importDirection = [
  { target: './src/lib', from: './src', except: ['./lib'], message: 'src/lib is shared by everything: it imports no other src folder.' },
  { target: './src/exec', from: './src', except: ['./lib', './exec', './logger.ts'], message: 'src/exec imports only src/lib (and the Logger type).' },
  { target: './src/output', from: './src', except: ['./lib', './exec', './output'], message: 'src/output holds pure readers of files: it imports only src/lib and src/exec.' },
  { target: './src/client', from: './src', except: ['./client', './contract'], message: 'src/client runs outside the server: it imports only src/contract.' },
  { target: './src/*/**', from: './src/*/routes.ts', message: 'A routes.ts is wired by app.ts only: move what you need out of it into a module of its own.' },
]

export default [
  ...neostandard({
    ts: true,
    ignores: ['dist/**', 'node_modules/**', '.scratch/**'],
  }),
  {
    name: 'agent-runtime/import-direction',
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // Why: sources import './x.js' for './x.ts' (NodeNext); the resolver must map them to find the file.
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js'], extensionAlias: { '.js': ['.ts', '.js'] } })],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: importDirection }],
    },
  },
]
