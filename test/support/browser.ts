/**
 * Headless Chromium (Debian's package) driven by playwright-core, and what the web client's
 * tests share: accounts made through the API, signed-in browser contexts watched for page
 * errors. Under CI the browser must be there: a missing one fails the run instead of quietly
 * skipping the web tests.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { expect } from 'bun:test'
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core'
import { spawnServer, type ServerProcess } from './server-process'

export const CHROMIUM_PATH = '/usr/bin/chromium'

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
]

export const PASSWORD = 'correct horse battery'
/** Where the web tests leave their screenshots, to be looked at. */
export const ARTIFACTS = resolve(import.meta.dir, '../../test-artifacts')
export const PHONE = { width: 390, height: 844 }
// Waits for something the page should show; generous for a loaded CI machine, still bounded.
export const UI_TIMEOUT_MS = 8_000

/** Why browser tests cannot run here, or null when they can. Throws under CI instead. */
export function browserUnavailable(): string | null {
  if (existsSync(CHROMIUM_PATH)) return null
  const reason = `${CHROMIUM_PATH} is missing (install Debian's chromium package)`
  if (process.env.CI === 'true') throw new Error(`CI must run the browser tests, but ${reason}`)
  return reason
}

/**
 * A browser with a fresh profile: `launch` gives every browser its own temporary user-data
 * directory and removes it on close, and each `newContext()` is a separate cookie jar.
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ARGS })
}

/** The server (a child process with `env`) and the browser a test file shares; the screenshots' folder is made too. */
export async function startServerAndBrowser(env: Record<string, string>): Promise<{ server: ServerProcess; browser: Browser }> {
  mkdirSync(ARTIFACTS, { recursive: true })
  const [server, browser] = await Promise.all([spawnServer({ env }), launchBrowser()])
  return { server, browser }
}

/** Stops what startServerAndBrowser started, or the part of it that did start. */
export async function stopServerAndBrowser(browser: Browser | undefined, server: ServerProcess | undefined): Promise<void> {
  await browser?.close()
  await server?.stop()
}

export interface Account {
  id: number
  username: string
  displayName: string
  token: string
}

let counter = 0
/** Usernames unique per run, since a server's database outlives a single test. */
export const uniqueName = (base: string) => `${base}${Date.now().toString(36)}${(counter += 1)}`

export async function call<T>(server: ServerProcess, method: string, path: string, token?: string, body?: unknown): Promise<T> {
  const response = await fetch(server.url + path, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (!response.ok) throw new Error(`${method} ${path} -> ${response.status} ${await response.text()}`)
  return (response.status === 204 ? undefined : await response.json()) as T
}

export async function register(server: ServerProcess, base: string, displayName?: string): Promise<Account> {
  const username = uniqueName(base)
  const { user, token } = await call<{ user: { id: number; displayName: string }; token: string }>(
    server,
    'POST',
    '/api/auth/register',
    undefined,
    { username, password: PASSWORD, displayName },
  )
  return { id: user.id, username, displayName: user.displayName, token }
}

export const directRoom = (server: ServerProcess, from: Account, to: Account) =>
  call<{ id: number }>(server, 'POST', `/api/chat/users/${to.id}/rooms`, from.token)

export interface Message {
  id: number
  content: string
}

export const messagesPath = (roomId: number) => `/api/chat/rooms/${roomId}/messages`
export const post = (server: ServerProcess, account: Account, roomId: number, content: string, replyToId?: number) =>
  call<Message>(server, 'POST', messagesPath(roomId), account.token, { content, replyToId })
export const groupRoom = (server: ServerProcess, owner: Account, name: string, members: Account[]) =>
  call<{ id: number }>(server, 'POST', '/api/chat/rooms', owner.token, { name, participantIds: members.map((member) => member.id) })

/** The list item of the message whose text contains `text`. */
export const messageItem = (page: Page, text: string) =>
  page.locator('.messages__list .message').filter({ has: page.locator('.message__text', { hasText: text }) })

/** Uncaught exceptions in any page: every test ends with none (see expectNoPageErrors). */
const pageErrors: string[] = []

export function expectNoPageErrors(): void {
  expect(pageErrors.splice(0)).toEqual([])
}

/** A fresh browser profile (cookie jar), at desktop size unless `options` say otherwise, watched for page errors. */
export async function newContext(browser: Browser, server: ServerProcess, options: BrowserContextOptions = {}): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 800 }, ...options })
  context.setDefaultTimeout(UI_TIMEOUT_MS)
  context.on('weberror', (error) => pageErrors.push(error.error().message))
  return context
}

/** A browser context signed in as `account` (through the API, which sets the cookie). */
export async function signedIn(browser: Browser, server: ServerProcess, account: Account, options: BrowserContextOptions = {}): Promise<BrowserContext> {
  const context = await newContext(browser, server, options)
  const login = await context.request.post('/api/auth/login', { data: { username: account.username, password: PASSWORD } })
  expect(login.status()).toBe(200)
  return context
}

export async function openPage(context: BrowserContext, path = '/'): Promise<Page> {
  const page = await context.newPage()
  await page.goto(path)
  // Signed in; on a phone with a room open the sidebar is there but hidden.
  await page.locator('.sidebar').waitFor({ state: 'attached' })
  return page
}

/** Screenshots `name` at desktop and phone size, light and dark; `prepare` runs before each (a resize closes popovers). */
export async function shoot(page: Page, name: string, prepare?: () => Promise<void>): Promise<void> {
  const desktop = page.viewportSize()!
  for (const [device, viewport] of [['desktop', desktop], ['phone', PHONE]] as const) {
    await page.setViewportSize(viewport)
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme })
      await prepare?.()
      await page.screenshot({ path: join(ARTIFACTS, `${name}-${device}${scheme === 'dark' ? '-dark' : ''}.png`) })
    }
  }
  await page.setViewportSize(desktop)
  await page.emulateMedia({ colorScheme: 'light' })
}
