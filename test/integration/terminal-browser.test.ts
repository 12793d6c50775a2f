import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
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
    await page.evaluate('socket.close(4000, "simulated network drop")')
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
})
