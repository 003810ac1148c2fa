/**
 * The web client in a real browser against the real server (a child process, so it can be
 * restarted): sign-up, live messages both ways, unread badges across tabs, scroll-back,
 * failed sends, HTML injection, reconnecting after a restart, and screenshots to look at.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import {
  ARTIFACTS,
  browserUnavailable,
  call,
  directRoom,
  expectNoPageErrors,
  newContext,
  openPage,
  PASSWORD,
  post,
  register,
  signedIn,
  startServerAndBrowser,
  stopServerAndBrowser,
  uniqueName,
  type Message,
} from './support/browser'
import { spawnServer, type ServerProcess } from './support/server-process'

const unavailable = browserUnavailable()
if (unavailable) console.warn(`skipping the web client tests: ${unavailable}`)

const room = (page: Page, roomId: number) => page.locator(`.room[data-room-id="${roomId}"]`)
const badge = (page: Page, roomId: number) => room(page, roomId).locator('.badge')
const messageTexts = (page: Page) => page.locator('.messages__list .message__text').allTextContents()
const shownMessage = (page: Page, text: string) => page.locator('.messages__list .message__text', { hasText: text })

async function signUpInBrowser(page: Page, username: string, displayName: string): Promise<void> {
  await page.getByRole('button', { name: 'Create an account' }).click()
  await page.getByLabel('Username').fill(username)
  await page.getByLabel('Display name (optional)').fill(displayName)
  await page.getByLabel('Password').fill(PASSWORD)
  await page.getByRole('button', { name: 'Create account' }).click()
  await page.locator('.sidebar').waitFor()
}

describe.skipIf(unavailable !== null)('web client', () => {
  let browser: Browser
  let server: ServerProcess

  beforeAll(async () => {
    ;({ server, browser } = await startServerAndBrowser({ RATE_LIMIT_MESSAGES_PER_MINUTE: '0' }))
  }, 30_000)

  afterAll(() => stopServerAndBrowser(browser, server))

  afterEach(expectNoPageErrors)

  it('is served with a strict content security policy and runs under it', async () => {
    const response = await fetch(server.url + '/')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toStartWith('text/html')
    const csp = response.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("default-src 'self'")
    expect(csp).toContain("script-src 'self'")
    expect(csp).not.toContain('unsafe-inline')
    expect(response.headers.get('x-content-type-options')).toBe('nosniff')
    expect(response.headers.get('referrer-policy')).toBe('no-referrer')
    const html = await response.text()
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/)
    expect(html).not.toMatch(/\son[a-z]+=/i)

    const context = await newContext(browser, server)
    const page = await context.newPage()
    const violations: string[] = []
    page.on('console', (message) => {
      if (/content security policy/i.test(message.text())) violations.push(message.text())
    })
    await page.goto('/')
    await page.getByRole('button', { name: 'Sign in' }).waitFor()
    expect(violations).toEqual([])
    await context.close()
  }, 20_000)

  it('lets two people sign up and talk in a direct conversation, live both ways, with unread badges', async () => {
    const ana = { username: uniqueName('ana'), displayName: 'Ana Lima' }
    const ben = { username: uniqueName('ben'), displayName: 'Ben Okafor' }
    const [contextA, contextB] = await Promise.all([newContext(browser, server), newContext(browser, server)])
    const pageA = await contextA.newPage()
    const pageB = await contextB.newPage()
    await Promise.all([pageA.goto('/'), pageB.goto('/')])
    await signUpInBrowser(pageA, ana.username, ana.displayName)
    await signUpInBrowser(pageB, ben.username, ben.displayName)

    // The session is a cookie, never script-readable storage.
    expect(await pageA.evaluate(() => JSON.stringify(localStorage) + document.cookie)).toBe('{}')

    await pageA.getByRole('button', { name: 'New message' }).click()
    await pageA.getByLabel('Search people').fill(ben.username)
    await pageA.locator('.person', { hasText: ben.displayName }).click()
    await pageA.locator('.conversation__title', { hasText: ben.displayName }).waitFor()
    const roomId = Number(/#\/rooms\/(\d+)/.exec(pageA.url())![1])

    const composerA = pageA.getByLabel(`Message ${ben.displayName}`)
    await composerA.fill('Hi Ben! Are you there?')
    await composerA.press('Enter')
    await shownMessage(pageA, 'Hi Ben! Are you there?').waitFor()

    // Ben is looking at nothing: the new room appears with one unread message.
    await badge(pageB, roomId).filter({ hasText: '1' }).waitFor()
    await room(pageB, roomId).click()
    await shownMessage(pageB, 'Hi Ben! Are you there?').waitFor()
    await badge(pageB, roomId).waitFor({ state: 'detached' })

    const composerB = pageB.getByLabel(`Message ${ana.displayName}`)
    await composerB.pressSequentially('Yes')
    await pageA.locator('.typing', { hasText: `${ben.displayName} is typing…` }).waitFor()
    await composerB.press('Shift+Enter')
    await composerB.pressSequentially('two lines, see https://example.com/docs.')
    await composerB.press('Enter')
    const reply = shownMessage(pageA, 'two lines')
    await reply.waitFor()
    expect(await reply.innerText()).toBe('Yes\ntwo lines, see https://example.com/docs.')
    const link = reply.locator('a')
    expect(await link.getAttribute('href')).toBe('https://example.com/docs')
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer')
    expect(await link.getAttribute('target')).toBe('_blank')
    await pageA.locator('.typing', { hasText: 'typing' }).waitFor({ state: 'detached' }).catch(() => undefined)
    expect(await pageA.locator('.typing').textContent()).toBe('')

    // Each message is shown once on both sides.
    expect(await messageTexts(pageA)).toEqual(['Hi Ben! Are you there?', 'Yes\ntwo lines, see https://example.com/docs.'])
    expect(await messageTexts(pageB)).toEqual(['Hi Ben! Are you there?', 'Yes\ntwo lines, see https://example.com/docs.'])

    await pageA.screenshot({ path: join(ARTIFACTS, 'conversation-desktop.png') })
    await pageA.emulateMedia({ colorScheme: 'dark' })
    await pageA.screenshot({ path: join(ARTIFACTS, 'conversation-desktop-dark.png') })
    await pageA.emulateMedia({ colorScheme: 'light' })
    await pageA.setViewportSize({ width: 390, height: 844 })
    await pageA.screenshot({ path: join(ARTIFACTS, 'conversation-phone.png') })
    // On a phone the list and the conversation take turns.
    await pageA.getByRole('button', { name: 'Back to conversations' }).click()
    await room(pageA, roomId).waitFor()
    expect(await pageA.locator('.conversation').isVisible()).toBe(false)
    await pageA.screenshot({ path: join(ARTIFACTS, 'rooms-phone.png') })

    await pageA.getByRole('button', { name: 'Sign out' }).click()
    await pageA.getByRole('button', { name: 'Sign in' }).waitFor()
    await pageA.reload()
    await pageA.getByRole('button', { name: 'Sign in' }).waitFor()
    await pageA.screenshot({ path: join(ARTIFACTS, 'sign-in-phone.png') })
    await Promise.all([contextA.close(), contextB.close()])
  }, 40_000)

  it('clears an unread badge in every tab once one tab reads the room', async () => {
    const [cleo, dev] = await Promise.all([register(server, 'cleo', 'Cleo'), register(server, 'dev', 'Dev')])
    const { id: roomId } = await directRoom(server, cleo, dev)
    const context = await signedIn(browser, server, dev)
    const [first, second] = await Promise.all([openPage(context), openPage(context)])
    await Promise.all([room(first, roomId).waitFor(), room(second, roomId).waitFor()])

    await post(server, cleo, roomId, 'one')
    await post(server, cleo, roomId, 'two')
    await Promise.all([badge(first, roomId).filter({ hasText: '2' }).waitFor(), badge(second, roomId).filter({ hasText: '2' }).waitFor()])

    // A tab behind the front one gets few frames, and a click waits for a steady frame.
    await first.bringToFront()
    await room(first, roomId).click()
    await shownMessage(first, 'two').waitFor()
    await badge(second, roomId).waitFor({ state: 'detached' })
    await context.close()
  }, 20_000)

  it('scrolls back through older pages in order, without duplicates', async () => {
    const owner = await register(server, 'eli', 'Eli')
    const { id: roomId } = await call<{ id: number }>(server, 'POST', '/api/chat/rooms', owner.token, { name: 'history' })
    const seeded: string[] = []
    for (let index = 1; index <= 120; index += 1) {
      const content = `Message ${String(index).padStart(3, '0')}`
      await post(server, owner, roomId, content)
      seeded.push(content)
    }
    const context = await signedIn(browser, server, owner)
    const page = await context.newPage()
    // Time from navigation to the history on screen (page, assets, session, rooms, messages),
    // by the page's own clock. The best of a few loads counts: a busy test machine only ever
    // adds to it, and the first load is the cold one.
    let fastest = Infinity
    for (let load = 0; load < 3 && fastest >= 1_000; load += 1) {
      await (load === 0 ? page.goto(`/#/rooms/${roomId}`) : page.reload())
      await shownMessage(page, 'Message 120').waitFor()
      const shownAt = await page.evaluate(() => performance.getEntriesByName('chat:conversation-shown')[0]?.startTime)
      fastest = Math.min(fastest, shownAt ?? Infinity)
    }
    expect(fastest).toBeLessThan(1_000)
    expect((await messageTexts(page)).length).toBeLessThan(120)

    const start = page.locator('.messages__start', { hasText: 'beginning of the conversation' })
    for (let attempt = 0; attempt < 10 && !(await start.isVisible()); attempt += 1) {
      await page.locator('.messages').evaluate((element) => element.scrollTo({ top: 0 }))
      await page.waitForFunction(() => document.querySelector('.messages__start')?.getAttribute('data-state') !== 'loading')
    }
    await start.waitFor()
    expect(await messageTexts(page)).toEqual(seeded)
    await context.close()
  }, 30_000)

  it('shows message text literally and links only http(s) addresses', async () => {
    const [fay, gus] = await Promise.all([register(server, 'fay', 'Fay'), register(server, 'gus', 'Gus')])
    const { id: roomId } = await directRoom(server, fay, gus)
    const injection = '<img src=x onerror=alert(1)> <script>alert(2)</script> <b>bold</b>'
    const links = 'javascript:alert(3) and (see http://example.org/a_(b)) and data:text/html,<i>x</i>'
    const long = 'x'.repeat(3_000)
    await post(server, fay, roomId, injection)
    await post(server, fay, roomId, links)
    await post(server, fay, roomId, long)

    const context = await signedIn(browser, server, gus)
    const page = await context.newPage()
    const dialogs: string[] = []
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message())
      void dialog.dismiss()
    })
    await page.goto(`/#/rooms/${roomId}`)
    await shownMessage(page, 'onerror').waitFor()
    expect(await messageTexts(page)).toEqual([injection, links, long])
    // A long unbroken word wraps instead of widening the page.
    expect(await page.locator('.messages').evaluate((element) => element.scrollWidth <= element.clientWidth)).toBe(true)
    expect(await page.locator('.messages img, .messages script, .messages b').count()).toBe(0)
    const hrefs = await page.locator('.messages__list a').evaluateAll((anchors) => anchors.map((anchor) => anchor.getAttribute('href')))
    expect(hrefs).toEqual(['http://example.org/a_(b)'])
    expect(dialogs).toEqual([])
    await context.close()
  }, 20_000)

  it('marks a failed send, and a retry delivers it once', async () => {
    const [hal, ida] = await Promise.all([register(server, 'hal', 'Hal'), register(server, 'ida', 'Ida')])
    const { id: roomId } = await directRoom(server, hal, ida)
    const context = await signedIn(browser, server, hal)
    const page = await openPage(context, `/#/rooms/${roomId}`)
    const sends = `**/api/chat/rooms/${roomId}/messages`
    await page.route(sends, (route) => (route.request().method() === 'POST' ? route.abort('connectionreset') : route.continue()))

    const composer = page.getByLabel('Message Ida')
    await composer.fill('Will this arrive?')
    await composer.press('Enter')
    const failed = page.locator('.message--failed', { hasText: 'Will this arrive?' })
    await failed.locator('.message__status', { hasText: 'Not sent' }).waitFor()
    await page.screenshot({ path: join(ARTIFACTS, 'failed-send-desktop.png') })

    const attempts: string[] = []
    await page.unroute(sends)
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url().endsWith(`/rooms/${roomId}/messages`)) attempts.push(request.postDataJSON().clientMessageId)
    })
    await failed.getByRole('button', { name: 'Retry' }).click()
    await shownMessage(page, 'Will this arrive?').waitFor()
    await page.locator('.message--pending').waitFor({ state: 'detached' })
    expect(await messageTexts(page)).toEqual(['Will this arrive?'])
    expect(attempts).toHaveLength(1)
    expect(attempts[0]).toMatch(/^[0-9a-f-]{36}$/)

    const stored = await call<Message[]>(server, 'GET', `/api/chat/rooms/${roomId}/messages`, hal.token)
    expect(stored.map((message) => message.content)).toEqual(['Will this arrive?'])
    await context.close()
  }, 20_000)

  it('creates rooms and joins public ones from the dialogs', async () => {
    const [jo, kim] = await Promise.all([register(server, 'jo', 'Jo'), register(server, 'kim', 'Kim')])
    const name = uniqueName('design-')
    const contextJo = await signedIn(browser, server, jo)
    const contextKim = await signedIn(browser, server, kim)
    const [pageJo, pageKim] = await Promise.all([openPage(contextJo), openPage(contextKim)])

    await pageJo.getByRole('button', { name: 'New room' }).click()
    await pageJo.getByLabel('Room name').fill(name)
    await pageJo.getByText('Anyone can browse and join').click()
    await pageJo.locator('.person', { hasText: kim.displayName }).first().waitFor()
    await pageJo.screenshot({ path: join(ARTIFACTS, 'new-room-dialog-desktop.png') })
    await pageJo.getByRole('button', { name: 'Create room' }).click()
    await pageJo.locator('.conversation__title', { hasText: name }).waitFor()

    await pageKim.getByRole('button', { name: 'Browse rooms' }).click()
    await pageKim.getByRole('button', { name: `Join ${name}` }).click()
    await pageKim.locator('.conversation__title', { hasText: name }).waitFor()
    await pageKim.locator('.message__system', { hasText: 'Kim joined' }).waitFor()
    await pageJo.locator('.message__system', { hasText: 'Kim joined' }).waitFor()
    await Promise.all([contextJo.close(), contextKim.close()])
  }, 20_000)

  describe('across a server restart', () => {
    // Its own server: the others' tests must not see it go down.
    let restarting: ServerProcess

    beforeAll(async () => {
      restarting = await spawnServer()
    }, 30_000)

    afterAll(async () => {
      await restarting?.stop()
    })

    it('shows the outage, reconnects, and shows each message once', async () => {
      const [lea, max] = await Promise.all([register(restarting, 'lea', 'Lea'), register(restarting, 'max', 'Max')])
      const { id: roomId } = await directRoom(restarting, lea, max)
      await post(restarting, max, roomId, 'before the restart')
      const context = await signedIn(browser, restarting, lea)
      const page = await openPage(context, `/#/rooms/${roomId}`)
      await shownMessage(page, 'before the restart').waitFor()
      const banner = page.getByRole('status').filter({ hasText: 'Connection lost' })

      expect(await restarting.stop()).toBe(0)
      await banner.waitFor()
      await restarting.restart()
      await post(restarting, max, roomId, 'during 1')
      await post(restarting, max, roomId, 'during 2')
      await banner.waitFor({ state: 'hidden' })
      const seen = await post(restarting, max, roomId, 'after 1')
      await shownMessage(page, 'after 1').waitFor()

      // Again, behind a proxy that answers 503 until the server is back: the browser gives the
      // stream up (CLOSED), and the page opens a new one resuming with ?lastEventId=.
      const streams: string[] = []
      page.on('request', (request) => {
        if (request.url().includes('/api/chat/stream')) streams.push(request.url())
      })
      let refused: () => void = () => {}
      const refusedOnce = new Promise<void>((resolve) => (refused = resolve))
      await page.route('**/api/chat/stream*', async (route) => {
        await route.fulfill({ status: 503, contentType: 'application/json', body: '{"error":{"code":"unavailable","message":"restarting"}}' })
        refused()
      })
      await restarting.restart()
      await banner.waitFor()
      await post(restarting, max, roomId, 'behind the proxy')
      await refusedOnce
      await page.unroute('**/api/chat/stream*')
      await shownMessage(page, 'behind the proxy').waitFor({ timeout: 15_000 })
      await banner.waitFor({ state: 'hidden' })
      // The page's own EventSource keeps its first URL; a new one names the last message seen.
      expect(streams.filter((url) => url.endsWith(`?lastEventId=${seen.id}`)).length).toBeGreaterThan(0)
      await post(restarting, max, roomId, 'after 2')
      await shownMessage(page, 'after 2').waitFor()

      expect(await messageTexts(page)).toEqual(['before the restart', 'during 1', 'during 2', 'after 1', 'behind the proxy', 'after 2'])
      await context.close()
    }, 45_000)
  })
})
