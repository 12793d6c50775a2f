import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { hostname } from 'node:os'
import { after, before, describe, test } from 'node:test'
import { chromium, type Browser, type Page } from 'playwright-core'
import { startServer, type TestServer } from '../helpers/server.js'
import { waitFor } from '../helpers/wait.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** The text rows xterm.js shows on the page, as a user reads them. */
async function screenRows (page: Page): Promise<string[]> {
  return page.locator('.xterm-rows > div').allInnerTexts()
}

async function waitForRow (page: Page, text: string): Promise<void> {
  await waitFor(async () => (await screenRows(page)).some((row) => row.trim() === text), `a screen row "${text}"`, 15_000, 50)
}

describe('web terminal page in Chromium', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (.ci/run installs it)` }, () => {
  let server: TestServer
  let browser: Browser
  before(async () => {
    server = await startServer({ terminalOrphanTtl: '60' })
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // Why no --user-data-dir: playwright starts every browser with a fresh profile of its own.
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    })
  })
  after(async () => {
    await browser?.close()
    await server?.close()
  })

  test('asks for the key, runs a command, and after a reload shows the same session again', async () => {
    const page = await browser.newPage()
    const problems: string[] = []
    page.on('pageerror', (err) => problems.push(err.message))
    page.on('console', (message) => { if (message.type() === 'error') problems.push(message.text()) })
    await page.goto(`${server.url}/?shell=/bin/bash`)
    await page.waitForSelector('body[data-state="login"]')
    await page.fill('#key', server.key)
    await page.click('#login button[type="submit"]')
    await page.waitForSelector('body[data-state="connected"]')
    const { terminals } = (await server.api('GET', '/terminals')).body
    assert.equal(terminals.length, 1)

    await page.click('#terminal')
    await page.keyboard.type('echo hello-from-browser')
    await page.keyboard.press('Enter')
    await waitForRow(page, 'hello-from-browser')

    await page.reload()
    await page.waitForSelector('body[data-state="connected"]')
    await waitForRow(page, 'hello-from-browser')
    const afterReload = (await server.api('GET', '/terminals')).body.terminals
    assert.deepEqual(afterReload.map((t: any) => t.id), [terminals[0].id], 'the same session came back, no new one')

    // A dropped connection: the page reconnects by itself and reattaches to the same shell.
    // Why wait for the close: the page stays "connected" until its socket's close event, so
    // waiting for "connected" right after close() could pass before the drop, and keys typed
    // next would be lost while the page reconnects.
    await page.evaluate(`new Promise((resolve) => {
      socket.addEventListener('close', resolve)
      socket.close(4000, 'simulated network drop')
    })`)
    assert.notEqual(await page.getAttribute('body', 'data-state'), 'connected')
    await page.waitForSelector('body[data-state="connected"]')
    await waitForRow(page, 'hello-from-browser')
    assert.equal((await server.api('GET', '/terminals')).body.terminals.length, 1)
    if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT })

    await page.click('#terminal')
    await page.keyboard.type('exit 3')
    await page.keyboard.press('Enter')
    await page.waitForSelector('body[data-state="exited"]')
    assert.match(await page.locator('#status').innerText(), /exit code 3/)
    assert.deepEqual(problems, [])
    await page.close()
  })

  test('a wrong key is refused and the page asks again', async () => {
    const page = await browser.newPage()
    await page.goto(server.url + '/ui')
    await page.waitForSelector('body[data-state="login"]')
    await page.fill('#key', 'not-the-key')
    await page.click('#login button[type="submit"]')
    await page.waitForSelector('body[data-state="login"]')
    assert.match(await page.locator('#login-error').innerText(), /not accepted/)
    await page.close()
  })
  test('the terminal takes the keys after Connect and after a reload, without a click', async () => {
    const page = await browser.newPage()
    await page.goto(`${server.url}/?shell=/bin/bash`)
    await page.waitForSelector('body[data-state="login"]')
    await page.fill('#key', server.key)
    await page.press('#key', 'Enter')
    await page.waitForSelector('body[data-state="connected"]')
    await page.keyboard.type('echo typed-$((40+2))')
    await page.keyboard.press('Enter')
    await waitForRow(page, 'typed-42')
    await page.reload()
    await page.waitForSelector('body[data-state="connected"]')
    await page.keyboard.type('echo again-$((40+3))')
    await page.keyboard.press('Enter')
    await waitForRow(page, 'again-43')
    await page.keyboard.type('exit')
    await page.keyboard.press('Enter')
    await page.waitForSelector('body[data-state="exited"]')
    await page.close()
  })

  test('a 429 on the ticket shows the reason and stops retrying until the user acts', async () => {
    const page = await browser.newPage()
    let tickets = 0
    await page.route('**/terminal/tickets', async (route) => {
      tickets++
      await route.fulfill({ status: 429, headers: { 'retry-after': '60' }, contentType: 'application/json', body: JSON.stringify({ error: 'too many failed authentications', code: 'RATE_LIMITED' }) })
    })
    await page.goto(server.url + '/ui')
    await page.waitForSelector('body[data-state="login"]')
    await page.fill('#key', server.key)
    await page.press('#key', 'Enter')
    await waitFor(async () => /too many failed authentications \(HTTP 429, retry after 60 s\)/.test(await page.locator('#login-error').innerText()), 'the reason on the page')
    assert.equal(await page.getAttribute('body', 'data-state'), 'login')
    assert.equal(tickets, 1)
    await page.close()
  })

  const connect = async (page: Page): Promise<void> => {
    await page.goto(`${server.url}/?shell=/bin/bash`)
    await page.waitForSelector('body[data-state="login"]')
    await page.fill('#key', server.key)
    await page.press('#key', 'Enter')
    await page.waitForSelector('body[data-state="connected"]')
  }
  const typeLine = async (page: Page, line: string): Promise<void> => {
    await page.keyboard.type(line)
    await page.keyboard.press('Enter')
  }
  const endAllTerminals = async (): Promise<void> => {
    for (const terminal of (await server.api('GET', '/terminals')).body.terminals) await server.api('DELETE', `/terminals/${terminal.id}`)
  }
  // Runs a test on a new page, then closes it and ends every terminal, whatever happened.
  const onPage = (work: (page: Page) => Promise<void>) => async (): Promise<void> => {
    const page = await browser.newPage()
    try {
      await work(page)
    } finally {
      await page.close()
      await endAllTerminals()
    }
  }

  test('the page title names the server\'s host once the key is accepted', onPage(async (page) => {
    await page.goto(server.url + '/ui')
    assert.equal(await page.title(), 'agent-runtime terminal', 'no host name before the key')
    await page.fill('#key', server.key)
    await page.press('#key', 'Enter')
    await waitFor(async () => (await page.title()) === `${hostname()} · agent-runtime`, 'the host name in the title')
    assert.equal(await page.locator('#title').innerText(), hostname())
  }))

  test('a hidden cursor stays hidden after a reload reattaches the terminal', onPage(async (page) => {
    await connect(page)
    const cursors = async (): Promise<number> => page.locator('.xterm-rows .xterm-cursor').count()
    await waitFor(async () => await cursors() === 1, 'the cursor to show')
    await typeLine(page, "printf '\\033[?25l'; echo cursor-$((1+1))-hidden")
    await waitForRow(page, 'cursor-2-hidden')
    await waitFor(async () => await cursors() === 0, 'the cursor to hide')
    await page.reload()
    await page.waitForSelector('body[data-state="connected"]')
    await waitForRow(page, 'cursor-2-hidden')
    assert.equal(await cursors(), 0, 'the replay keeps the cursor hidden')
    await typeLine(page, "printf '\\033[?25h'; echo cursor-$((1+2))-shown")
    await waitForRow(page, 'cursor-3-shown')
    await waitFor(async () => await cursors() === 1, 'the cursor to show again')
  }))

  test('the picker lists the open terminals and reattaches the one chosen, keys going to it', onPage(async (page) => {
    await connect(page)
    await typeLine(page, 'echo first-$((10+1))')
    await waitForRow(page, 'first-11')
    const first = (await server.api('GET', '/terminals')).body.terminals[0].id as string
    await waitFor(async () => (await page.locator('#session-picker option').count()) === 2, 'the picker to list this terminal and "New terminal"')

    await page.selectOption('#session-picker', '')
    await waitFor(async () => (await server.api('GET', '/terminals')).body.terminals.length === 2, 'a second terminal')
    await page.waitForSelector('body[data-state="connected"]')
    await typeLine(page, 'echo second-$((20+2))')
    await waitForRow(page, 'second-22')
    assert.equal((await screenRows(page)).some((row) => row.trim() === 'first-11'), false, 'a new screen')
    await waitFor(async () => (await page.locator('#session-picker option').count()) === 3, 'both terminals in the picker')
    const labels = await page.locator('#session-picker option').allInnerTexts()
    assert.ok(labels.some((label) => label.startsWith(first.slice(0, 8))), JSON.stringify(labels))

    await page.selectOption('#session-picker', first)
    await waitForRow(page, 'first-11')
    assert.match(await page.locator('#status').innerText(), new RegExp(`connected · ${first}`))
    // The terminal has the focus again: keys typed now reach the first shell.
    await typeLine(page, 'echo back-$((30+3))')
    await waitForRow(page, 'back-33')
    assert.equal(await page.locator('#session-picker').inputValue(), first)
  }))
})
