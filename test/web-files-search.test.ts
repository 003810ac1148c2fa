/**
 * Files and search in the web client, two people on two pages against the real server (a child
 * process): an image picked with `Attach files` shows inline on the other page, in a box of its
 * own ratio before a byte of it arrives, and opens full size; other files are download chips;
 * a file named like markup stays text and downloads; progress, cancel, retry and the size
 * limit; drop and paste; search marks the words that matched, narrows to the open room, and
 * opens the hit in its room. Screenshots of each, desktop and phone, light and dark, in
 * test-artifacts/.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'bun:test'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { ARTIFACTS, browserUnavailable, call, directRoom, expectNoPageErrors, groupRoom, messageItem, messagesPath, openPage, PHONE, post, register, shoot, signedIn, startServerAndBrowser, stopServerAndBrowser } from './support/browser'
import type { ServerProcess } from './support/server-process'

const unavailable = browserUnavailable()
if (unavailable) console.warn(`skipping the web files and search tests: ${unavailable}`)

const MAX_UPLOAD_BYTES = 2 * 1024 * 1024
const SERVER_ENV = { RATE_LIMIT_MESSAGES_PER_MINUTE: '0', MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES) }
const HOSTILE_NAME = '<img src=x onerror=alert(1)>.html'

/** A page never runs a script it was not built with: a dialog (alert) fails the test. */
function forbidDialogs(page: Page): string[] {
  const dialogs: string[] = []
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message())
    void dialog.dismiss()
  })
  return dialogs
}

/** A PNG drawn by the browser: `width` x `height`, a gradient with a label, so a screenshot shows it. */
async function drawPng(page: Page, width: number, height: number, label: string): Promise<Buffer> {
  const data = await page.evaluate(
    ([w, h, text]) => {
      const canvas = document.createElement('canvas')
      canvas.width = w
      canvas.height = h
      const g = canvas.getContext('2d')!
      const gradient = g.createLinearGradient(0, 0, w, h)
      gradient.addColorStop(0, '#f97316')
      gradient.addColorStop(1, '#7c3aed')
      g.fillStyle = gradient
      g.fillRect(0, 0, w, h)
      g.fillStyle = '#fff'
      g.font = `bold ${Math.round(h / 6)}px sans-serif`
      g.fillText(text, w / 12, h / 2)
      return canvas.toDataURL('image/png').split(',')[1]!
    },
    [width, height, label] as const,
  )
  return Buffer.from(data, 'base64')
}

/** Picks files through the `Attach files` button and the browser's file chooser. */
async function attach(page: Page, files: { name: string; mimeType: string; buffer: Buffer }[]): Promise<void> {
  const chooser = page.waitForEvent('filechooser')
  await page.getByRole('button', { name: 'Attach files' }).click()
  await (await chooser).setFiles(files)
}

describe.skipIf(unavailable !== null)('web client files and search', () => {
  let browser: Browser
  let server: ServerProcess

  beforeAll(async () => {
    ;({ server, browser } = await startServerAndBrowser(SERVER_ENV))
    await register(server, 'admin')
  }, 30_000)

  afterAll(() => stopServerAndBrowser(browser, server))

  afterEach(expectNoPageErrors)

  it('sends an image picked with Attach files; the other page shows it inline in a box of its ratio, and full size on a click', async () => {
    const [ana, ben] = await Promise.all([register(server, 'ana', 'Ana Silva'), register(server, 'ben', 'Ben Okafor')])
    const { id: roomId } = await directRoom(server, ana, ben)
    await post(server, ben, roomId, 'Send me the sunset photo?')
    const [contextA, contextB] = await Promise.all([signedIn(browser, server, ana), signedIn(browser, server, ben)])
    const [pageA, pageB] = await Promise.all([openPage(contextA, `/#/rooms/${roomId}`), openPage(contextB, `/#/rooms/${roomId}`)])
    const dialogs = [...[pageA, pageB].map(forbidDialogs)]
    await Promise.all([messageItem(pageA, 'sunset photo').waitFor(), messageItem(pageB, 'sunset photo').waitFor()])

    // Ben's page holds every file back until told: the box must be there before the bytes are.
    const held: (() => void)[] = []
    await pageB.route('**/api/chat/attachments/**', (route) => {
      held.push(() => void route.continue())
    })

    const png = await drawPng(pageA, 1200, 800, 'sunset')
    await attach(pageA, [{ name: 'sunset.png', mimeType: 'image/png', buffer: png }])
    await pageA.getByRole('button', { name: 'Remove sunset.png' }).waitFor()
    const composer = pageA.getByLabel(`Message ${ben.displayName}`)
    await composer.fill('Here it is')
    await composer.press('Enter')
    await pageA.locator('.upload-tray').waitFor({ state: 'hidden' })

    const image = messageItem(pageB, 'Here it is').getByRole('button', { name: 'Open image sunset.png' }).locator('img')
    await image.waitFor()
    expect(await image.evaluate((element: HTMLImageElement) => element.complete && element.naturalWidth > 0)).toBe(false)
    const reserved = (await image.boundingBox())!
    expect(reserved.width).toBeGreaterThan(200)
    expect(reserved.width / reserved.height).toBeCloseTo(1200 / 800, 1)
    expect(await image.getAttribute('alt')).toBe('sunset.png')
    const textTop = () => messageItem(pageB, 'Here it is').locator('.message__text').evaluate((element) => element.getBoundingClientRect().top)
    const before = await textTop()
    for (const release of held.splice(0)) release()
    await pageB.unroute('**/api/chat/attachments/**')
    await pageB.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('.attachment-image img')
      return img !== null && img.complete && img.naturalWidth === 1200
    })
    const loaded = (await image.boundingBox())!
    expect(Math.abs(loaded.height - reserved.height)).toBeLessThan(1)
    expect(Math.abs((await textTop()) - before)).toBeLessThan(1)
    // Ana's own page shows it too, from the send's answer or the stream.
    await messageItem(pageA, 'Here it is').locator('.attachment-image img').waitFor()

    await shoot(pageB, 'image-inline')

    await messageItem(pageB, 'Here it is').getByRole('button', { name: 'Open image sunset.png' }).click()
    const viewer = pageB.getByRole('dialog', { name: 'sunset.png' })
    await viewer.waitFor()
    await pageB.waitForFunction(() => document.querySelector<HTMLImageElement>('.image-viewer__img')?.complete === true)
    const full = (await viewer.locator('.image-viewer__img').boundingBox())!
    expect(full.width).toBeGreaterThan(reserved.width)
    expect(full.width / full.height).toBeCloseTo(1.5, 1)
    await shoot(pageB, 'image-viewer')
    await pageB.keyboard.press('Escape')
    await viewer.waitFor({ state: 'detached' })

    // A file alone is a message too: the box's text is optional once a file is uploaded.
    await attach(pageA, [{ name: 'second.png', mimeType: 'image/png', buffer: await drawPng(pageA, 300, 600, '2') }])
    await pageA.getByRole('button', { name: 'Remove second.png' }).waitFor()
    await composer.press('Enter')
    await pageB.getByRole('button', { name: 'Open image second.png' }).waitFor()
    expect(dialogs.flat()).toEqual([])
    await Promise.all([contextA.close(), contextB.close()])
  }, 60_000)

  it('shows other files as chips with name and size that download with their name; a name like markup stays text', async () => {
    const [cai, dora] = await Promise.all([register(server, 'cai', 'Cai Wen'), register(server, 'dora', 'Dora Lind')])
    const { id: roomId } = await groupRoom(server, cai, 'reports', [dora])
    const [contextC, contextD] = await Promise.all([signedIn(browser, server, cai), signedIn(browser, server, dora)])
    const [pageC, pageD] = await Promise.all([openPage(contextC, `/#/rooms/${roomId}`), openPage(contextD, `/#/rooms/${roomId}`)])
    const dialogs = [pageC, pageD].map(forbidDialogs)
    const csv = Buffer.from('week,visits\n1,120\n2,180\n'.repeat(60))
    const script = Buffer.from('<script>alert(1)</script><img src=x onerror=alert(2)>')
    await attach(pageC, [
      { name: 'q3 report.csv', mimeType: 'text/csv', buffer: csv },
      { name: HOSTILE_NAME, mimeType: 'text/html', buffer: script },
    ])
    await pageC.getByRole('button', { name: 'Remove q3 report.csv' }).waitFor()
    await pageC.getByRole('button', { name: `Remove ${HOSTILE_NAME}` }).waitFor()
    const composer = pageC.getByLabel('Message reports')
    await composer.fill('Numbers for the quarter')
    await composer.press('Enter')

    const message = messageItem(pageD, 'Numbers for the quarter')
    const chips = message.locator('.attachment-file')
    await chips.nth(1).waitFor()
    expect(await chips.locator('.attachment-file__name').allTextContents()).toEqual(['q3 report.csv', HOSTILE_NAME])
    expect(await chips.nth(0).locator('.attachment-file__size').textContent()).toBe(`${(csv.length / 1024).toFixed(1)} KB`)
    // The name is text: no element came of it, on either page.
    for (const page of [pageC, pageD]) expect(await page.locator('.messages img').count()).toBe(0)

    const download = pageD.waitForEvent('download')
    await chips.nth(0).click()
    const saved = await download
    expect(saved.suggestedFilename()).toBe('q3 report.csv')
    expect(await readFile((await saved.path())!)).toEqual(csv)

    // The markup-named file is a download, not a page: clicking it opens nothing that runs.
    const hostile = pageD.waitForEvent('download')
    await chips.nth(1).click()
    const hostileSaved = await hostile
    expect(hostileSaved.suggestedFilename()).toEndWith('.html')
    expect(await readFile((await hostileSaved.path())!)).toEqual(script)
    const href = (await chips.nth(1).getAttribute('href'))!
    const served = await contextD.request.get(href)
    expect(served.status()).toBe(200)
    expect(served.headers()['content-type']).toBe('application/octet-stream')
    expect(served.headers()['content-disposition']).toStartWith('attachment;')
    expect(served.headers()['content-security-policy']).toContain('sandbox')
    expect(served.headers()['x-content-type-options']).toBe('nosniff')
    // Even opened as an address of its own, the bytes do not become a page of this origin.
    const tab = await contextD.newPage()
    forbidDialogs(tab)
    const opened = tab.waitForEvent('download')
    await tab.goto(href).catch(() => undefined)
    expect((await opened).suggestedFilename()).toEndWith('.html')
    await tab.close()

    await shoot(pageD, 'file-chips')
    expect(dialogs.flat()).toEqual([])
    await Promise.all([contextC.close(), contextD.close()])
  }, 60_000)

  it('shows each upload’s progress, cancels one, retries one that lost the connection, and refuses a file over the limit, before sending once the limit is known', async () => {
    const [eli, fay] = await Promise.all([register(server, 'eli', 'Eli Brandt'), register(server, 'fay', 'Fay Moreau')])
    const { id: roomId } = await directRoom(server, eli, fay)
    const context = await signedIn(browser, server, eli)
    const page = await openPage(context, `/#/rooms/${roomId}`)
    const uploads: string[] = []
    page.on('request', (request) => {
      if (request.url().endsWith(`/rooms/${roomId}/attachments`)) uploads.push(request.url())
    })

    // A slow uplink, so the progress is there to be seen.
    const cdp = await context.newCDPSession(page)
    await cdp.send('Network.enable')
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 256 * 1024 })
    await attach(page, [{ name: 'big.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(1536 * 1024, 7) }])
    const bar = page.getByRole('progressbar', { name: 'Uploading big.bin' })
    await page.waitForFunction(() => {
      const progress = document.querySelector<HTMLProgressElement>('.upload__bar')
      return progress !== null && progress.value > 0 && progress.value < progress.max
    })
    await bar.waitFor()
    // Sending waits for the files: it says so and keeps the text.
    const composer = page.getByLabel(`Message ${fay.displayName}`)
    await composer.fill('with the dump')
    await composer.press('Enter')
    await page.locator('.composer__hint', { hasText: 'still uploading' }).waitFor()
    expect(await composer.inputValue()).toBe('with the dump')
    await shoot(page, 'upload-progress')
    await page.getByRole('button', { name: 'Cancel upload of big.bin' }).click()
    await page.locator('.upload-tray').waitFor({ state: 'hidden' })
    await page.locator('.composer__hint', { hasText: 'still uploading' }).waitFor({ state: 'hidden' })
    // No connection: the upload says so, and tries again when asked.
    await cdp.send('Network.emulateNetworkConditions', { offline: true, latency: 0, downloadThroughput: -1, uploadThroughput: -1 })
    await attach(page, [{ name: 'retry.txt', mimeType: 'text/plain', buffer: Buffer.from('second time lucky') }])
    const offline = page.locator('.upload--failed', { hasText: 'retry.txt' }).getByRole('alert')
    await offline.filter({ hasText: 'Not uploaded: no connection' }).waitFor()
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 })
    await offline.getByRole('button', { name: 'Retry' }).click()
    await page.getByRole('button', { name: 'Remove retry.txt' }).and(page.locator('.upload--done *')).waitFor()
    await composer.press('Enter')
    await messageItem(page, 'with the dump').locator('.attachment-file', { hasText: 'retry.txt' }).waitFor()

    // Just over the limit: the server refuses it and names its limit.
    await attach(page, [{ name: 'over.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(MAX_UPLOAD_BYTES + 10_000, 1) }])
    const refusal = page.locator('.upload--failed', { hasText: 'over.bin' }).getByRole('alert')
    await refusal.waitFor()
    expect(await refusal.textContent()).toBe('Too large: 2.01 MB; files can be at most 2 MB.')
    const asked = uploads.length
    // Known now: a larger one is refused here, and nothing is sent.
    await attach(page, [{ name: 'huge.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(3 * 1024 * 1024, 2) }])
    const refusedHere = page.locator('.upload--failed', { hasText: 'huge.bin' }).getByRole('alert')
    await refusedHere.waitFor()
    expect(await refusedHere.textContent()).toBe('Too large: 3 MB; files can be at most 2 MB.')
    expect(uploads.length).toBe(asked)
    await shoot(page, 'upload-too-large')
    await page.getByRole('button', { name: 'Remove huge.bin' }).click()
    await page.getByRole('button', { name: 'Remove over.bin' }).click()
    await page.locator('.upload-tray').waitFor({ state: 'hidden' })
    await context.close()
  }, 60_000)

  it('uploads files dropped on the conversation and images pasted into the message box', async () => {
    const [gus, hana] = await Promise.all([register(server, 'gus', 'Gus Ortega'), register(server, 'hana', 'Hana Sato')])
    const { id: roomId } = await directRoom(server, gus, hana)
    const context = await signedIn(browser, server, gus)
    const page = await openPage(context, `/#/rooms/${roomId}`)
    await page.locator('.messages__start', { hasText: 'No messages yet' }).waitFor()
    const png = (await drawPng(page, 200, 100, 'drop')).toString('base64')

    // A drop as the browser makes one: a DataTransfer holding a file, over the conversation.
    const drag = (type: 'dragover' | 'drop') =>
      page.evaluate(
        ([data, kind]) => {
          const bytes = Uint8Array.from(atob(data), (char) => char.charCodeAt(0))
          const transfer = new DataTransfer()
          transfer.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }))
          document.querySelector('.messages')!.dispatchEvent(new DragEvent(kind, { bubbles: true, cancelable: true, dataTransfer: transfer }))
        },
        [png, type] as const,
      )
    await drag('dragover')
    const hint = page.locator('.drop-hint', { hasText: `Drop files to send them to ${hana.displayName}` })
    await hint.waitFor()
    await page.screenshot({ path: join(ARTIFACTS, 'drop-files-desktop.png') })
    await drag('drop')
    await hint.waitFor({ state: 'hidden' })
    await page.getByRole('button', { name: 'Remove dropped.png' }).waitFor()

    await page.evaluate((data) => {
      const bytes = Uint8Array.from(atob(data), (char) => char.charCodeAt(0))
      const transfer = new DataTransfer()
      transfer.items.add(new File([bytes], 'image.png', { type: 'image/png' }))
      const box = document.querySelector('.composer__input')!
      box.dispatchEvent(new ClipboardEvent('paste', { bubbles: true, cancelable: true, clipboardData: transfer }))
    }, png)
    await page.getByRole('button', { name: 'Remove image.png' }).waitFor()
    await page.getByRole('button', { name: 'Send message' }).click()
    const images = page.locator('.messages__list .message').last().locator('.attachment-image img')
    await images.nth(1).waitFor()
    expect(await images.evaluateAll((elements) => elements.map((element) => element.getAttribute('alt')))).toEqual(['dropped.png', 'image.png'])
    await context.close()
  }, 30_000)

  it('finds messages by the start of their words, marks the words as text, and opens a hit scrolled to it', async () => {
    const [ida, jon] = await Promise.all([register(server, 'ida', 'Ida Berg'), register(server, 'jon', 'Jon Reyes')])
    const { id: roomId } = await groupRoom(server, ida, 'release', [jon])
    await post(server, ida, roomId, 'Decision: the deployment moves to the Café <b>Ünter</b> server')
    // More than a page after it: the hit is older than the history a room opens with.
    for (let index = 1; index <= 70; index += 1) await post(server, jon, roomId, `standup note ${String(index).padStart(2, '0')}`)
    await post(server, jon, roomId, 'deploy later today')
    const context = await signedIn(browser, server, jon)
    const page = await openPage(context)
    forbidDialogs(page)

    const box = page.getByRole('searchbox', { name: 'Search messages' })
    await box.fill('deploy cafe')
    const hits = page.getByRole('region', { name: 'Search results' }).locator('.search-hit')
    await hits.first().waitFor()
    expect(await hits.count()).toBe(1)
    const hit = hits.first()
    expect(await hit.locator('.search-hit__room').textContent()).toBe('release')
    expect(await hit.locator('.search-hit__author').textContent()).toBe(ida.displayName)
    expect(await hit.locator('.search-hit__time').getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/)
    expect(await hit.locator('.search-hit__text').textContent()).toBe('Decision: the deployment moves to the Café <b>Ünter</b> server')
    expect(await hit.locator('mark').allTextContents()).toEqual(['deployment', 'Café'])
    expect(await page.locator('.search-results b').count()).toBe(0)
    await shoot(page, 'search-results')

    // A word matches with or without accents, at the start of a word only.
    await box.fill('unter')
    await hits.locator('mark', { hasText: 'Ünter' }).waitFor()
    await box.fill('ploy')
    await page.locator('.search-results__status', { hasText: 'No messages match' }).waitFor()

    // What would be query syntax to the index is just text here.
    await box.fill('"deploy* -:(')
    await hits.nth(1).waitFor()
    expect(await page.locator('.search-results__status').textContent()).toBe('2 messages')

    await box.fill('deploy')
    await hits.nth(1).waitFor()
    expect(await hits.locator('.search-hit__text').allTextContents()).toEqual(['deploy later today', 'Decision: the deployment moves to the Café <b>Ünter</b> server'])
    await hits.nth(1).click()
    const target = messageItem(page, 'Decision: the deployment')
    await target.waitFor()
    await page.waitForFunction(() => {
      const element = document.querySelector('.message--flash')
      const view = document.querySelector('.messages')!.getBoundingClientRect()
      const box = element?.getBoundingClientRect()
      return box !== undefined && box.top >= view.top - 1 && box.bottom <= view.bottom + 1
    })
    expect(await target.evaluate((element) => element.classList.contains('message--flash'))).toBe(true)
    expect(await page.getByRole('heading', { name: 'release' }).isVisible()).toBe(true)
    await shoot(page, 'search-opened')

    expect(await hits.nth(1).getAttribute('aria-current')).toBe('true')

    // Narrowed to the open room, another room's hits are left out.
    const { id: opsId } = await groupRoom(server, ida, 'ops', [jon])
    await post(server, ida, opsId, 'deploy staging first')
    await box.fill('deplo')
    await hits.nth(2).waitFor()
    expect(await hits.locator('.search-hit__room').allTextContents()).toEqual(['ops', 'release', 'release'])
    const only = page.getByRole('button', { name: 'Only in release' })
    await only.click()
    await page.locator('.search-results__status', { hasText: '2 messages' }).waitFor()
    expect(await hits.locator('.search-hit__room').allTextContents()).toEqual(['release', 'release'])
    expect(await only.getAttribute('aria-pressed')).toBe('true')
    await page.screenshot({ path: join(ARTIFACTS, 'search-one-room-desktop.png') })
    await only.click()
    await page.locator('.search-results__status', { hasText: '3 messages' }).waitFor()

    // A hit deleted after it was found: its room opens and says the message is gone.
    const doomed = await post(server, ida, opsId, 'doomed plan')
    await box.fill('doomed')
    await hits.first().waitFor()
    await call(server, 'DELETE', `${messagesPath(opsId)}/${doomed.id}`, ida.token)
    await hits.first().click()
    await page.getByRole('heading', { name: 'ops' }).waitFor()
    await page.getByRole('status').filter({ hasText: 'That message is no longer in this conversation.' }).waitFor()

    // Newest first, a page at a time.
    await box.fill('standup')
    await hits.nth(19).waitFor()
    await page.locator('.search-results__status', { hasText: '20+ messages' }).waitFor()
    expect(await hits.first().locator('.search-hit__text').textContent()).toBe('standup note 70')
    await page.getByRole('button', { name: 'More results' }).click()
    await hits.nth(39).waitFor()
    expect(await hits.nth(20).locator('.search-hit__text').textContent()).toBe('standup note 50')

    // On a phone the results fill the screen, and a hit opens the room in its place.
    await page.setViewportSize(PHONE)
    await page.getByRole('button', { name: 'Back to conversations' }).click()
    await box.fill('standup 07')
    const standup = hits.filter({ hasText: 'standup note 07' })
    await standup.waitFor()
    expect(await hits.count()).toBe(1)
    await page.screenshot({ path: join(ARTIFACTS, 'search-results-phone-query.png') })
    await standup.click()
    await messageItem(page, 'standup note 07').and(page.locator('.message--flash')).waitFor()
    await context.close()
  }, 60_000)
})
