/**
 * Conversations in the web client, two people on two pages against the real server (a child
 * process): edits and deletions live and after the page was offline, reactions, replies and
 * their quotes, `@` mentions with their badges, notification levels and desktop notifications,
 * the keyboard path through a message's actions; screenshots of each, desktop and phone, light
 * and dark, in test-artifacts/.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { ARTIFACTS, browserUnavailable, call, directRoom, expectNoPageErrors, groupRoom, messageItem, messagesPath, openPage, PHONE, post, register, shoot, signedIn, startServerAndBrowser, stopServerAndBrowser, type Message } from './support/browser'
import { spawnServer, type ServerProcess } from './support/server-process'

const unavailable = browserUnavailable()
if (unavailable) console.warn(`skipping the web conversation tests: ${unavailable}`)

const SERVER_ENV = { RATE_LIMIT_MESSAGES_PER_MINUTE: '0' }

const roomButton = (page: Page, roomId: number) => page.locator(`.room[data-room-id="${roomId}"]`)
const texts = (page: Page) => page.locator('.messages__list .message__text').allTextContents()
const shown = (page: Page, text: string) => page.locator('.messages__list .message__text', { hasText: text })
const chip = (page: Page, text: string, emoji: string) => messageItem(page, text).locator('.reaction', { hasText: emoji })
const chipCount = (page: Page, text: string, emoji: string, count: number) =>
  chip(page, text, emoji).locator('.reaction__count', { hasText: new RegExp(`^${count}$`) })

/** Opens a message's `Message actions` menu and picks `action`. */
async function act(page: Page, text: string, action: string): Promise<void> {
  const message = messageItem(page, text)
  await message.hover()
  await message.getByRole('button', { name: 'Message actions' }).click()
  await page.getByRole('menuitem', { name: action }).click()
}

/** Whether the element is wholly inside the message list's visible area. */
const inView = (page: Page, text: string) =>
  messageItem(page, text).evaluate((element) => {
    const box = element.getBoundingClientRect()
    const view = element.closest('.messages')!.getBoundingClientRect()
    return box.top >= view.top - 1 && box.bottom <= view.bottom + 1
  })

describe.skipIf(unavailable !== null)('web client conversations', () => {
  let browser: Browser
  let server: ServerProcess

  beforeAll(async () => {
    ;({ server, browser } = await startServerAndBrowser(SERVER_ENV))
    // The first account of a server is its admin, who may delete any message in their rooms:
    // taken here, so the people of the tests are members whichever test runs first.
    await register(server, 'admin')
  }, 30_000)

  afterAll(() => stopServerAndBrowser(browser, server))

  afterEach(expectNoPageErrors)

  it('counts a reaction on both pages; a chip toggles the reader’s own and names who reacted', async () => {
    const [cleo, dev] = await Promise.all([register(server, 'cleo', 'Cleo Park'), register(server, 'dev', 'Dev Rao')])
    const { id: roomId } = await directRoom(server, cleo, dev)
    await post(server, dev, roomId, 'Ship it today?')
    const [contextC, contextD] = await Promise.all([signedIn(browser, server, cleo), signedIn(browser, server, dev)])
    const [otherTab, pageD] = await Promise.all([openPage(contextC, `/#/rooms/${roomId}`), openPage(contextD, `/#/rooms/${roomId}`)])
    const pageC = await openPage(contextC, `/#/rooms/${roomId}`)
    await Promise.all([shown(pageC, 'Ship it today?').waitFor(), shown(pageD, 'Ship it today?').waitFor(), shown(otherTab, 'Ship it today?').waitFor()])

    const message = messageItem(pageC, 'Ship it today?')
    await message.hover()
    await message.getByRole('button', { name: 'Add reaction' }).click()
    await pageC.getByRole('dialog', { name: 'Choose a reaction' }).waitFor()
    await pageC.getByRole('button', { name: 'React with 👍' }).click()
    await Promise.all([chipCount(pageC, 'Ship it today?', '👍', 1).waitFor(), chipCount(pageD, 'Ship it today?', '👍', 1).waitFor()])
    expect(await chip(pageC, 'Ship it today?', '👍').getAttribute('aria-pressed')).toBe('true')
    expect(await chip(pageD, 'Ship it today?', '👍').getAttribute('aria-pressed')).toBe('false')
    // Cleo's other tab, open all along, shows it as hers too.
    await chip(otherTab, 'Ship it today?', '👍').and(otherTab.locator('[aria-pressed="true"]')).waitFor()

    // The other person's click on the chip adds theirs: two on both pages.
    await chip(pageD, 'Ship it today?', '👍').click()
    await Promise.all([chipCount(pageC, 'Ship it today?', '👍', 2).waitFor(), chipCount(pageD, 'Ship it today?', '👍', 2).waitFor()])
    await chip(pageD, 'Ship it today?', '👍').hover()
    expect(await chip(pageD, 'Ship it today?', '👍').getAttribute('title')).toBe(`${cleo.displayName}, You reacted with 👍`)
    expect(await chip(pageC, 'Ship it today?', '👍').getAttribute('title')).toBe(`You, ${dev.displayName} reacted with 👍`)

    // Any short text is a reaction too; white space is not allowed in one.
    const mine = messageItem(pageD, 'Ship it today?')
    await mine.hover()
    await mine.getByRole('button', { name: 'Add reaction' }).click()
    const custom = pageD.getByLabel('Custom reaction')
    await custom.fill('two words')
    await custom.press('Enter')
    await pageD.getByRole('dialog', { name: 'Choose a reaction' }).getByRole('alert').filter({ hasText: 'no spaces' }).waitFor()
    await custom.fill('<b>+1</b>')
    await custom.press('Enter')
    await Promise.all([chipCount(pageC, 'Ship it today?', '<b>+1</b>', 1).waitFor(), chipCount(pageD, 'Ship it today?', '<b>+1</b>', 1).waitFor()])
    expect(await pageC.locator('.messages b').count()).toBe(0)

    await shoot(pageC, 'reactions', async () => {
      await messageItem(pageC, 'Ship it today?').hover()
    })
    await mine.hover()
    await mine.getByRole('button', { name: 'Add reaction' }).click()
    await pageD.getByRole('button', { name: 'React with 🎉' }).waitFor()
    await pageD.screenshot({ path: join(ARTIFACTS, 'reaction-picker-desktop.png') })
    await pageD.keyboard.press('Escape')
    await pageD.getByRole('dialog', { name: 'Choose a reaction' }).waitFor({ state: 'detached' })

    // Clicking one's own chip takes the reaction back, on both pages.
    await chip(pageC, 'Ship it today?', '👍').click()
    await Promise.all([chipCount(pageC, 'Ship it today?', '👍', 1).waitFor(), chipCount(pageD, 'Ship it today?', '👍', 1).waitFor()])
    expect(await chip(pageC, 'Ship it today?', '👍').getAttribute('aria-pressed')).toBe('false')
    await Promise.all([contextC.close(), contextD.close()])
  }, 40_000)

  it('quotes what a reply answers, jumps to it, and says when it was deleted', async () => {
    const [eve, fin] = await Promise.all([register(server, 'eve', 'Eve Adams'), register(server, 'fin', 'Fin Moss')])
    const { id: roomId } = await groupRoom(server, eve, 'planning', [fin])
    const original = await post(server, eve, roomId, 'The plan: <img src=x onerror=alert(1)> then ship')
    // More than a page after it: the original is not in the history the page loads.
    for (let index = 1; index <= 55; index += 1) await post(server, eve, roomId, `filler ${String(index).padStart(2, '0')}`)
    const [contextE, contextF] = await Promise.all([signedIn(browser, server, eve), signedIn(browser, server, fin)])
    const [pageE, pageF] = await Promise.all([openPage(contextE, `/#/rooms/${roomId}`), openPage(contextF, `/#/rooms/${roomId}`)])
    await Promise.all([shown(pageE, 'filler 55').waitFor(), shown(pageF, 'filler 55').waitFor()])

    const last = messageItem(pageF, 'filler 55')
    await last.hover()
    await last.getByRole('button', { name: 'Reply' }).click()
    await pageF.locator('.composer__reply', { hasText: `Replying to ${eve.displayName}` }).waitFor()
    const composer = pageF.getByLabel('Message planning')
    await composer.fill('Agreed, go')
    await composer.press('Enter')
    const quoteOnE = messageItem(pageE, 'Agreed, go').locator('.quote')
    await quoteOnE.filter({ hasText: 'filler 55' }).waitFor()
    expect(await quoteOnE.locator('.quote__author').textContent()).toBe(eve.displayName)
    expect(await pageF.locator('.composer__reply').isVisible()).toBe(false)

    // A reaction to a message above the view changes its height alone, and what the reader
    // looks at stays put: the first message in view keeps its place on screen.
    const topOf = (text: string) => messageItem(pageE, text).evaluate((element) => element.getBoundingClientRect().top)
    await messageItem(pageE, 'filler 25').evaluate((element) => element.scrollIntoView({ block: 'start' }))
    const [before, scrolledBefore] = [await topOf('filler 25'), await pageE.locator('.messages').evaluate((element) => element.scrollTop)]
    const stored = await call<Message[]>(server, 'GET', `${messagesPath(roomId)}?limit=60`, eve.token)
    const tenth = stored.find((message) => message.content === 'filler 10')!
    await call(server, 'PUT', `${messagesPath(roomId)}/${tenth.id}/reactions/${encodeURIComponent('👀')}`, fin.token)
    await chipCount(pageE, 'filler 10', '👀', 1).waitFor()
    expect(Math.abs((await topOf('filler 25')) - before)).toBeLessThan(1)
    expect(await pageE.locator('.messages').evaluate((element) => element.scrollTop)).toBeGreaterThan(scrolledBefore)
    await pageE.locator('.messages').evaluate((element) => element.scrollTo({ top: element.scrollHeight }))

    // A reply to a message older than the loaded history: the quote looks it up, as text.
    await post(server, fin, roomId, 'About the first plan', original.id)
    const oldQuote = messageItem(pageE, 'About the first plan').locator('.quote')
    await oldQuote.locator('.quote__text', { hasText: 'The plan: <img src=x onerror=alert(1)> then ship' }).waitFor()
    await messageItem(pageF, 'About the first plan').locator('.quote__text', { hasText: 'The plan' }).waitFor()
    expect(await pageE.locator('.messages img').count()).toBe(0)
    await shoot(pageE, 'reply-quote')

    // A click on the quote pages back to the original and brings it into view.
    await oldQuote.click()
    await messageItem(pageE, 'The plan:').waitFor()
    await pageE.waitForFunction(() => {
      const target = document.querySelector('.message--flash')
      const view = document.querySelector('.messages')!.getBoundingClientRect()
      const box = target?.getBoundingClientRect()
      return box !== undefined && box.top >= view.top - 1 && box.bottom <= view.bottom + 1
    })
    expect(await inView(pageE, 'The plan:')).toBe(true)
    expect(await messageItem(pageE, 'The plan:').evaluate((element) => element.classList.contains('message--flash'))).toBe(true)

    // The original is deleted: both quotes of it say so, on both pages.
    await call(server, 'DELETE', `${messagesPath(roomId)}/${original.id}`, eve.token)
    await shown(pageE, 'The plan:').waitFor({ state: 'detached' })
    await messageItem(pageE, 'About the first plan').locator('.quote--gone', { hasText: 'deleted message' }).waitFor()
    await messageItem(pageF, 'About the first plan').locator('.quote--gone', { hasText: 'deleted message' }).waitFor()
    await Promise.all([contextE.close(), contextF.close()])
  }, 60_000)

  it('completes an @mention from the room’s people; the mentioned page highlights it and badges the room', async () => {
    const [gia, hugo, ivy] = await Promise.all([register(server, 'gia', 'Gia Russo'), register(server, 'hugo', 'Hugo Berg'), register(server, 'ivy', 'Ivy Chen')])
    const { id: roomId } = await groupRoom(server, gia, 'launch', [hugo, ivy])
    const [contextG, contextH] = await Promise.all([signedIn(browser, server, gia), signedIn(browser, server, hugo)])
    const [pageG, pageH] = await Promise.all([openPage(contextG, `/#/rooms/${roomId}`), openPage(contextH)])
    await roomButton(pageH, roomId).waitFor()

    const composer = pageG.getByLabel('Message launch')
    await composer.pressSequentially('Ready, @hu')
    const suggestions = pageG.getByRole('listbox', { name: 'People to mention' })
    await suggestions.getByRole('option', { name: new RegExp(hugo.displayName) }).waitFor()
    expect(await suggestions.getByRole('option').count()).toBe(1)
    await pageG.screenshot({ path: join(ARTIFACTS, 'mention-autocomplete-desktop.png') })
    await composer.press('Enter')
    expect(await composer.inputValue()).toBe(`Ready, @${hugo.username} `)
    await suggestions.waitFor({ state: 'hidden' })
    // By display name too; Escape closes the list and keeps what was typed.
    await composer.pressSequentially('and @Iv')
    await suggestions.getByRole('option', { name: new RegExp(ivy.displayName) }).waitFor()
    await composer.press('Escape')
    await suggestions.waitFor({ state: 'hidden' })
    await composer.press('Backspace')
    await composer.press('Backspace')
    await composer.press('Backspace')
    await composer.pressSequentially('ship it?')
    await composer.press('Enter')
    const sent = `Ready, @${hugo.username} and ship it?`
    await shown(pageG, sent).waitFor()
    await messageItem(pageG, sent).locator('.mention', { hasText: `@${hugo.username}` }).waitFor()
    expect(await messageItem(pageG, sent).locator('.mention--me').count()).toBe(0)

    // Hugo is looking at no room: a mention badge and an unread badge, and the count in the title.
    await roomButton(pageH, roomId).locator('.badge--mention', { hasText: '@1' }).waitFor()
    await roomButton(pageH, roomId).locator('.badge:not(.badge--mention)', { hasText: '1' }).waitFor()
    await pageH.waitForFunction(() => document.title === '(1) Chat')
    await pageH.screenshot({ path: join(ARTIFACTS, 'mention-badge-desktop.png') })
    await pageH.setViewportSize(PHONE)
    await pageH.screenshot({ path: join(ARTIFACTS, 'mention-badge-phone.png') })
    await pageH.setViewportSize({ width: 1280, height: 800 })

    await roomButton(pageH, roomId).click()
    const mentioned = messageItem(pageH, sent)
    await mentioned.locator('.mention--me', { hasText: `@${hugo.username}` }).waitFor()
    expect(await mentioned.evaluate((element) => element.classList.contains('message--mention'))).toBe(true)
    await roomButton(pageH, roomId).locator('.badge').waitFor({ state: 'detached' })
    await pageH.waitForFunction(() => document.title === 'Chat')
    await shoot(pageH, 'mention')
    await Promise.all([contextG.close(), contextH.close()])
  }, 40_000)

  it('tells a hidden tab about messages at the room’s notification level, which the Notifications control sets', async () => {
    const [jo, kai] = await Promise.all([register(server, 'jo', 'Jo Hart'), register(server, 'kai', 'Kai Lund')])
    const { id: roomId } = await groupRoom(server, jo, 'ops', [kai])
    const context = await signedIn(browser, server, kai)
    // The page's view of the Notification API and of its own visibility, under the test's hand:
    // a headless tab is never hidden, and shows no desktop notifications to look at.
    await context.addInitScript(() => {
      const shown: { title: string; body: string }[] = []
      Object.assign(window, { shownNotifications: shown, tabHidden: false })
      class RecordingNotification {
        static permission = 'granted'
        static requestPermission = async () => 'granted'
        onclick: (() => void) | null = null
        constructor(title: string, options?: { body?: string }) {
          shown.push({ title, body: options?.body ?? '' })
        }
        close() {}
      }
      Object.defineProperty(window, 'Notification', { value: RecordingNotification, configurable: true })
      Object.defineProperty(document, 'visibilityState', { get: () => ((window as unknown as { tabHidden: boolean }).tabHidden ? 'hidden' : 'visible'), configurable: true })
    })
    const page = await openPage(context, `/#/rooms/${roomId}`)
    const control = page.getByRole('button', { name: 'Notifications' })
    // A group room tells its members of mentions only, until they choose otherwise.
    await page.getByRole('button', { name: 'Notifications: Mentions' }).waitFor()
    const choose = async (label: string) => {
      await control.click()
      const menu = page.getByRole('menu', { name: 'Notifications' })
      await menu.waitFor()
      const saved = page.waitForResponse((response) => response.url().endsWith(`/rooms/${roomId}/notifications`) && response.status() === 204)
      await menu.getByRole('menuitemradio', { name: label }).click()
      await saved
      await page.getByRole('button', { name: `Notifications: ${label}` }).waitFor()
    }
    const notifications = () => page.evaluate(() => (window as unknown as { shownNotifications: { title: string; body: string }[] }).shownNotifications)
    const hide = (hidden: boolean) =>
      page.evaluate((value) => {
        Object.assign(window, { tabHidden: value })
        document.dispatchEvent(new Event('visibilitychange'))
      }, hidden)

    await hide(true)
    await post(server, jo, roomId, 'no one named here')
    await shown(page, 'no one named here').waitFor()
    expect(await notifications()).toEqual([])
    await page.waitForFunction(() => document.title === '(1) Chat')
    await post(server, jo, roomId, `@${kai.username} can you look?`)
    await page.waitForFunction(() => (window as unknown as { shownNotifications: unknown[] }).shownNotifications.length === 1)
    expect(await notifications()).toEqual([{ title: 'ops', body: `${jo.displayName}: @${kai.username} can you look?` }])
    await page.waitForFunction(() => document.title === '(2) Chat')

    await hide(false)
    await page.waitForFunction(() => document.title === 'Chat')
    await choose('All messages')
    await hide(true)
    await post(server, jo, roomId, 'everything now')
    await page.waitForFunction(() => (window as unknown as { shownNotifications: unknown[] }).shownNotifications.length === 2)

    await hide(false)
    await choose('Nothing')
    await hide(true)
    await post(server, jo, roomId, `@${kai.username} quiet please`)
    await shown(page, 'quiet please').waitFor()
    expect((await notifications()).length).toBe(2)

    // The level is the server's: a reload shows it.
    await hide(false)
    await page.reload()
    await shown(page, 'quiet please').waitFor()
    await page.getByRole('button', { name: 'Notifications: Nothing' }).waitFor()
    await control.click()
    expect(await page.getByRole('menuitemradio', { checked: true }).textContent()).toBe('Nothing')
    await page.screenshot({ path: join(ARTIFACTS, 'notifications-menu-desktop.png') })
    await page.keyboard.press('Escape')
    await shoot(page, 'notifications')
    await context.close()
  }, 40_000)

  it('edits with the keyboard alone: Arrow-Up in an empty box, the actions menu, Escape and Enter', async () => {
    const [lea, max] = await Promise.all([register(server, 'lea', 'Lea Ford'), register(server, 'max', 'Max Ito')])
    // Max owns the room, so he may delete any message in it; Lea is a member.
    const { id: roomId } = await groupRoom(server, max, 'standup', [lea])
    await post(server, max, roomId, 'from Max')
    const context = await signedIn(browser, server, lea)
    const page = await openPage(context, `/#/rooms/${roomId}`)
    const composer = page.getByLabel('Message standup')
    await composer.fill('one')
    await composer.press('Enter')
    await composer.fill('two')
    await composer.press('Enter')
    await shown(page, 'two').waitFor()
    await page.locator('.message--pending').waitFor({ state: 'detached' })

    // Arrow-Up edits the newest own message; Escape leaves it as it was.
    await composer.press('ArrowUp')
    const editor = page.getByLabel('Edit your message')
    await editor.waitFor()
    expect(await editor.inputValue()).toBe('two')
    await editor.press('End')
    await editor.pressSequentially(' (typo)')
    await editor.press('Escape')
    await editor.waitFor({ state: 'detached' })
    expect(await texts(page)).toEqual(['from Max', 'one', 'two'])
    expect(await composer.evaluate((element) => element === document.activeElement)).toBe(true)

    // The menu by keys: Enter opens it on its first item, arrows move, Enter picks.
    await messageItem(page, 'one').getByRole('button', { name: 'Message actions' }).focus()
    await page.keyboard.press('Enter')
    const menu = page.getByRole('menu', { name: 'Message actions' })
    await menu.waitFor()
    expect(await menu.getByRole('menuitem').allTextContents()).toEqual(['Reply', 'Add reaction', 'Edit message', 'Delete message'])
    await page.keyboard.press('ArrowDown')
    await page.keyboard.press('ArrowDown')
    await page.keyboard.press('Enter')
    await editor.waitFor()
    await editor.fill('one, fixed')
    await editor.press('Enter')
    await messageItem(page, 'one, fixed').locator('.message__edited', { hasText: 'edited' }).waitFor()
    expect(await texts(page)).toEqual(['from Max', 'one, fixed', 'two'])

    // Someone else's message offers neither edit nor delete here.
    await messageItem(page, 'from Max').getByRole('button', { name: 'Message actions' }).focus()
    await page.keyboard.press('Enter')
    expect(await menu.getByRole('menuitem').allTextContents()).toEqual(['Reply', 'Add reaction'])
    await page.keyboard.press('Escape')
    await menu.waitFor({ state: 'detached' })
    await context.close()
  }, 30_000)

  it('works by touch on a phone: a tap shows a message’s actions, the picker is a sheet along the bottom', async () => {
    const [pia, quinn] = await Promise.all([register(server, 'pia', 'Pia Noor'), register(server, 'quinn', 'Quinn Ma')])
    const { id: roomId } = await directRoom(server, pia, quinn)
    await post(server, quinn, roomId, 'Lunch at noon?')
    const context = await signedIn(browser, server, pia, { viewport: PHONE, hasTouch: true, isMobile: true })
    const page = await openPage(context, `/#/rooms/${roomId}`)
    const message = messageItem(page, 'Lunch at noon?')
    await message.locator('.message__text').tap()
    const react = message.getByRole('button', { name: 'Add reaction' })
    await page.waitForFunction(() => getComputedStyle(document.querySelector('.message__actions')!).opacity === '1')
    await react.tap()
    const picker = page.getByRole('dialog', { name: 'Choose a reaction' })
    await picker.waitFor()
    const sheet = await picker.boundingBox()
    expect(Math.round(sheet!.x)).toBe(0)
    expect(Math.round(sheet!.width)).toBe(PHONE.width)
    expect(Math.round(sheet!.y + sheet!.height)).toBe(PHONE.height)
    await page.screenshot({ path: join(ARTIFACTS, 'reaction-sheet-phone.png') })
    await page.getByRole('button', { name: 'React with 🙏' }).tap()
    await chipCount(page, 'Lunch at noon?', '🙏', 1).waitFor()
    await context.close()
  }, 30_000)

  describe('across an outage', () => {
    // Its own server: the others' tests must not see it go down.
    let restarting: ServerProcess

    beforeAll(async () => {
      restarting = await spawnServer({ env: SERVER_ENV })
    }, 30_000)

    afterAll(async () => {
      await restarting?.stop()
    })

    it('shows edits and deletions on the other page live, and those made while it was offline once it is back', async () => {
      const [nia, oto] = await Promise.all([register(restarting, 'nia', 'Nia Cole'), register(restarting, 'oto', 'Oto Diaz')])
      const { id: roomId } = await directRoom(restarting, nia, oto)
      const [contextN, contextO] = await Promise.all([signedIn(browser, restarting, nia), signedIn(browser, restarting, oto)])
      const [pageN, pageO] = await Promise.all([openPage(contextN, `/#/rooms/${roomId}`), openPage(contextO, `/#/rooms/${roomId}`)])
      const composer = pageN.getByLabel(`Message ${oto.displayName}`)
      for (const text of ['first draft', 'keep me', 'remove me']) {
        await composer.fill(text)
        await composer.press('Enter')
        await shown(pageO, text).waitFor()
      }

      // Tagged elements on the other page: an edit replaces its own message's element alone.
      await pageO.locator('.messages__list .message').evaluateAll((elements) => elements.forEach((element) => element.classList.add('tagged')))
      await act(pageN, 'first draft', 'Edit message')
      const editor = pageN.getByLabel('Edit your message')
      await editor.fill('final text')
      await editor.press('Enter')
      await messageItem(pageO, 'final text').locator('.message__edited').waitFor()
      await messageItem(pageN, 'final text').locator('.message__edited').waitFor()
      expect(await pageO.locator('.messages__list .message').evaluateAll((elements) => elements.map((element) => element.classList.contains('tagged')))).toEqual([false, true, true])

      await act(pageN, 'remove me', 'Delete message')
      const confirmation = pageN.getByRole('dialog', { name: 'Delete message?' })
      await confirmation.locator('.dialog__quote', { hasText: 'remove me' }).waitFor()
      await pageN.screenshot({ path: join(ARTIFACTS, 'delete-confirmation-desktop.png') })
      await confirmation.getByRole('button', { name: 'Delete', exact: true }).click()
      await confirmation.waitFor({ state: 'detached' })
      await shown(pageO, 'remove me').waitFor({ state: 'detached' })
      expect(await texts(pageN)).toEqual(['final text', 'keep me'])
      expect(await texts(pageO)).toEqual(['final text', 'keep me'])
      // The deleted message was the room's last: the sidebar shows the one before it.
      await roomButton(pageO, roomId).locator('.room__preview', { hasText: 'keep me' }).waitFor()
      await shoot(pageO, 'edited', async () => {
        await messageItem(pageO, 'keep me').hover()
      })

      // The server goes away; changes are made through another server on the same database,
      // which stops again before the first comes back: the pages can only learn of them by
      // resuming their streams.
      const stored = await call<(Message & { reactions: unknown[] })[]>(restarting, 'GET', messagesPath(roomId), nia.token)
      const byContent = (content: string) => stored.find((message) => message.content === content)!
      const banner = pageO.getByRole('status').filter({ hasText: 'Connection lost' })
      // Where each new stream request resumes (the browser's own reconnect sends the header,
      // which only allHeaders() shows; a stream the page reopens names it in the query).
      const resumes: Promise<number | null>[] = []
      pageO.on('request', (request) => {
        if (!request.url().includes('/api/chat/stream')) return
        resumes.push(request.allHeaders().then((headers) => Number(headers['last-event-id'] ?? new URL(request.url()).searchParams.get('lastEventId')) || null))
      })
      expect(await restarting.stop()).toBe(0)
      await banner.waitFor()
      const other = await spawnServer({ dbPath: restarting.dbPath, env: SERVER_ENV })
      try {
        const path = messagesPath(roomId)
        await call(other, 'PATCH', `${path}/${byContent('keep me').id}`, nia.token, { content: 'kept, edited offline' })
        await call(other, 'DELETE', `${path}/${byContent('final text').id}`, nia.token)
        await call(other, 'PUT', `${path}/${byContent('keep me').id}/reactions/${encodeURIComponent('🎉')}`, oto.token)
        await post(other, oto, roomId, 'posted offline')
      } finally {
        await other.stop()
      }
      await restarting.restart()
      await banner.waitFor({ state: 'hidden' })
      // The stream resumed after the last event it had: the deletion, numbered after every message so far.
      const resumedFrom = await Promise.all(resumes)
      expect(resumedFrom.length).toBeGreaterThan(0)
      expect(resumedFrom.at(-1)).toBeGreaterThan(Math.max(...stored.map((message) => message.id)))
      for (const page of [pageN, pageO]) {
        await shown(page, 'posted offline').waitFor()
        await chipCount(page, 'kept, edited offline', '🎉', 1).waitFor()
        await messageItem(page, 'kept, edited offline').locator('.message__edited').waitFor()
        expect(await texts(page)).toEqual(['kept, edited offline', 'posted offline'])
      }
      await shoot(pageO, 'resumed')
      await Promise.all([contextN.close(), contextO.close()])
    }, 60_000)
  })
})
