/**
 * The account dialog, the Administration page and the join / reset links, in Chromium against
 * the real server (a child process): what a person sees and the accessible names of the
 * controls. Where a change reaches someone else (deactivation, a reset link, an invite) a second
 * browser profile is that person.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { ARTIFACTS, browserUnavailable, call, expectNoPageErrors, newContext, openPage, PASSWORD, register, shoot, signedIn, startServerAndBrowser, stopServerAndBrowser, uniqueName, type Account } from './support/browser'
import { runCli } from './support/cli'
import { spawnServer, type ServerProcess } from './support/server-process'

const unavailable = browserUnavailable()
if (unavailable) console.warn(`skipping the web administration tests: ${unavailable}`)

const NEW_PASSWORD = 'a brand new password'

const signInStatus = (server: ServerProcess, username: string, password: string) =>
  fetch(server.url + '/api/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password }) }).then((r) => r.status)

async function openAdministration(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Administration' }).click()
  await page.getByRole('heading', { name: 'Administration', level: 1 }).waitFor()
}

const personRow = (page: Page, account: Account) => page.getByRole('list', { name: 'People' }).getByRole('listitem', { name: account.username, exact: true })

describe.skipIf(unavailable !== null)('web client administration', () => {
  let browser: Browser
  let server: ServerProcess
  let admin: Account

  beforeAll(async () => {
    ;({ server, browser } = await startServerAndBrowser({ ALLOW_REGISTRATION: 'true' }))
    // The first account of a new server is its admin.
    admin = await register(server, 'boss', 'Boss')
  }, 30_000)

  afterAll(() => stopServerAndBrowser(browser, server))

  afterEach(expectNoPageErrors)

  it('shows Administration to admins only', async () => {
    const member = await register(server, 'plain', 'Plain Member')
    const memberPage = await openPage(await signedIn(browser, server, member))
    await memberPage.getByRole('button', { name: 'Account', exact: true }).waitFor()
    expect(await memberPage.getByRole('button', { name: 'Administration' }).count()).toBe(0)
    await memberPage.context().close()

    const page = await openPage(await signedIn(browser, server, admin))
    await shoot(page, 'admin-sidebar')
    await openAdministration(page)
    await personRow(page, member).getByText('Member', { exact: true }).waitFor()
    await personRow(page, admin).getByText('Admin', { exact: true }).waitFor()
    expect(await personRow(page, admin).getByRole('button', { name: `Deactivate ${admin.username}` }).count()).toBe(0)
    // The chat behind the page is out of reach; Back (or Escape) returns to it.
    expect(await page.locator('.shell').evaluate((shell) => (shell as HTMLElement).inert)).toBe(true)
    await page.getByRole('button', { name: 'Back to chat' }).click()
    await page.getByRole('heading', { name: 'Administration' }).waitFor({ state: 'hidden' })
    expect(await page.locator('.shell').evaluate((shell) => (shell as HTMLElement).inert)).toBe(false)
    await page.getByRole('button', { name: 'Administration' }).focus()
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { name: 'Administration', level: 1 }).waitFor()
    await page.keyboard.press('Escape')
    await page.getByRole('heading', { name: 'Administration' }).waitFor({ state: 'hidden' })
    await page.context().close()
  })

  it('promotes and demotes; the last admin stays, with the server saying why', async () => {
    const member = await register(server, 'rising', 'Rising Star')
    const page = await openPage(await signedIn(browser, server, admin))
    await openAdministration(page)
    await personRow(page, member).getByRole('button', { name: `Promote ${member.username}` }).click()
    await personRow(page, member).getByText('Admin', { exact: true }).waitFor()
    expect((await call<{ user: { role: string } }>(server, 'GET', '/api/auth/me', member.token)).user.role).toBe('admin')
    await personRow(page, member).getByRole('button', { name: `Demote ${member.username}` }).click()
    await personRow(page, member).getByText('Member', { exact: true }).waitFor()

    // The only admin left cannot step down.
    await personRow(page, admin).getByRole('button', { name: `Demote ${admin.username}` }).click()
    await page.getByRole('region', { name: 'People' }).getByRole('alert').filter({ hasText: /admin/i }).waitFor()
    expect((await call<{ user: { role: string } }>(server, 'GET', '/api/auth/me', admin.token)).user.role).toBe('admin')

    // With a second admin, stepping down works, and the page is a member's from then on.
    await personRow(page, member).getByRole('button', { name: `Promote ${member.username}` }).click()
    await personRow(page, member).getByText('Admin', { exact: true }).waitFor()
    await Promise.all([page.waitForEvent('load'), personRow(page, admin).getByRole('button', { name: `Demote ${admin.username}` }).click()])
    await page.getByRole('button', { name: 'Account', exact: true }).waitFor()
    expect(new URL(page.url()).hash).toBe('')
    expect(await page.getByRole('button', { name: 'Administration' }).count()).toBe(0)
    await call(server, 'PATCH', `/api/admin/users/${admin.id}`, member.token, { role: 'admin' })
    await call(server, 'PATCH', `/api/admin/users/${member.id}`, admin.token, { role: 'member' })
    await page.context().close()
  })

  it("deactivating someone signs their open page out at once; reactivating lets them back in", async () => {
    const leaver = await register(server, 'leaver', 'Leaving Soon')
    const theirs = await openPage(await signedIn(browser, server, leaver))
    await theirs.getByRole('button', { name: 'Account', exact: true }).waitFor()

    const page = await openPage(await signedIn(browser, server, admin))
    await openAdministration(page)
    page.once('dialog', (dialog) => void dialog.accept())
    await personRow(page, leaver).getByRole('button', { name: `Deactivate ${leaver.username}` }).click()
    await personRow(page, leaver).getByText('Deactivated', { exact: true }).waitFor()

    await theirs.getByRole('heading', { name: 'Sign in to chat' }).waitFor()
    expect(await signInStatus(server, leaver.username, PASSWORD)).toBe(401)

    await personRow(page, leaver).getByRole('button', { name: `Reactivate ${leaver.username}` }).click()
    await personRow(page, leaver).getByText('Active', { exact: true }).waitFor()
    expect(await signInStatus(server, leaver.username, PASSWORD)).toBe(200)
    await theirs.context().close()
    await page.context().close()
  })

  it('makes a reset link to copy; opening it sets a new password and signs in', async () => {
    const forgetful = await register(server, 'forgetful', 'Forgetful')
    const context = await signedIn(browser, server, admin)
    await context.grantPermissions(['clipboard-read', 'clipboard-write'])
    const page = await openPage(context)
    await openAdministration(page)
    await personRow(page, forgetful).getByRole('button', { name: `Reset password ${forgetful.username}` }).click()
    const link = personRow(page, forgetful).getByRole('textbox', { name: `Reset link for ${forgetful.username}` })
    const url = await link.inputValue()
    expect(url).toStartWith(`${server.url}/reset#`)
    await personRow(page, forgetful).getByRole('button', { name: 'Copy link' }).click()
    await personRow(page, forgetful).getByText('Copied').waitFor()
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(url)
    await shoot(page, 'admin-page')

    const theirs = await (await newContext(browser, server)).newPage()
    await theirs.goto(url)
    await theirs.getByRole('heading', { name: 'Set a new password' }).waitFor()
    await shoot(theirs, 'reset-page')
    await theirs.getByLabel('New password').fill(NEW_PASSWORD)
    await theirs.getByRole('button', { name: 'Set password' }).click()
    await theirs.getByRole('button', { name: 'Account', exact: true }).waitFor()
    await theirs.waitForURL((address) => address.pathname === '/')
    expect(await signInStatus(server, forgetful.username, NEW_PASSWORD)).toBe(200)
    expect(await signInStatus(server, forgetful.username, PASSWORD)).toBe(401)

    // The link is used up: opened again, it is refused with the server's words.
    const again = await (await newContext(browser, server)).newPage()
    await again.goto(url)
    await again.getByLabel('New password').fill('yet another password')
    await again.getByRole('button', { name: 'Set password' }).click()
    await again.getByRole('alert').filter({ hasText: /./ }).waitFor()
    expect(await signInStatus(server, forgetful.username, NEW_PASSWORD)).toBe(200)
    await Promise.all([theirs.context().close(), again.context().close(), context.close()])
  })

  it('on a server closed to sign-up, an invite with expiry and uses signs a new person up; a used-up or revoked one does not', async () => {
    // Registration closed, as a team that invites runs it; its admin made with the command line.
    const closed = await spawnServer({ env: { ALLOW_REGISTRATION: 'false' } })
    const contexts: BrowserContext[] = []
    try {
      // On the server's database: its file, or its PostgreSQL database when it runs on one.
      const onItsDatabase = closed.databaseUrl === undefined ? [] : ['--database-url', closed.databaseUrl]
      const added = await runCli(['users', 'add', 'owner', '--admin', '--password-stdin', ...onItsDatabase], { env: { DATABASE_PATH: closed.dbPath }, stdin: `${PASSWORD}\n` })
      expect(added.code).toBe(0)
      const { user, token: ownerToken } = await call<{ user: { id: number; displayName: string }; token: string }>(closed, 'POST', '/api/auth/login', undefined, { username: 'owner', password: PASSWORD })
      const owner: Account = { id: user.id, username: 'owner', displayName: user.displayName, token: ownerToken }
      const context = await signedIn(browser, closed, owner)
      contexts.push(context)
      const page = await openPage(context)
      await openAdministration(page)
      const invites = page.getByRole('list', { name: 'Invites' })
      await page.getByLabel('Expires after').selectOption({ label: '1 day' })
      await page.getByLabel('Uses').fill('1')
      await page.getByRole('button', { name: 'Create invite' }).click()
      const row = invites.getByRole('listitem').filter({ hasText: '0 of 1 used' })
      const url = await row.getByRole('textbox', { name: 'Invite link' }).inputValue()
      expect(url).toStartWith(`${closed.url}/join#`)
      await page.getByRole('heading', { name: 'Invites' }).scrollIntoViewIfNeeded()
      await shoot(page, 'admin-invites')
      const token = url.split('#')[1]!
      const live = await call<{ token: string; expiresAt: string }[]>(closed, 'GET', '/api/admin/invites', owner.token)
      expect(Math.abs(Date.parse(live.find((invite) => invite.token === token)!.expiresAt) - Date.now() - 24 * 3600_000)).toBeLessThan(60_000)

      const newcomer = uniqueName('newbie')
      const theirContext = await newContext(browser, closed)
      contexts.push(theirContext)
      const theirs = await theirContext.newPage()
      await theirs.goto(url)
      await theirs.getByRole('heading', { name: 'Join the chat' }).waitFor()
      await shoot(theirs, 'join-page')
      await theirs.getByLabel('Username').fill(newcomer)
      await theirs.getByLabel('Display name (optional)').fill('New Person')
      await theirs.getByLabel('Password').fill(PASSWORD)
      await theirs.getByRole('button', { name: 'Create account' }).click()
      await theirs.getByRole('button', { name: 'Account', exact: true }).waitFor()
      await theirs.waitForURL((address) => address.pathname === '/')
      expect(await theirs.locator('.sidebar__me strong').textContent()).toBe('New Person')
      expect(await signInStatus(closed, newcomer, PASSWORD)).toBe(200)

      // Used up: the link refuses the next person, with the server's words, and is no longer live.
      const lateContext = await newContext(browser, closed)
      contexts.push(lateContext)
      const late = await lateContext.newPage()
      await late.goto(url)
      await late.getByLabel('Username').fill(uniqueName('late'))
      await late.getByLabel('Password').fill(PASSWORD)
      await late.getByRole('button', { name: 'Create account' }).click()
      await late.getByRole('alert').filter({ hasText: /./ }).waitFor()
      expect(await late.getByRole('button', { name: 'Account', exact: true }).count()).toBe(0)

      await page.reload()
      await page.getByRole('heading', { name: 'Administration', level: 1 }).waitFor()
      await page.getByRole('list', { name: 'People' }).getByRole('listitem', { name: newcomer, exact: true }).waitFor()
      await page.locator(`[data-invite="${token}"]`).waitFor({ state: 'detached' })

      // A revoked one signs nobody up.
      await page.getByRole('button', { name: 'Create invite' }).click()
      const second = invites.getByRole('listitem').filter({ hasText: '0 used · no limit' }).first()
      const doomed = (await second.getByRole('textbox', { name: 'Invite link' }).inputValue()).split('#')[1]!
      await second.getByRole('button', { name: 'Revoke' }).click()
      await page.locator(`[data-invite="${doomed}"]`).waitFor({ state: 'detached' })
      const refused = await fetch(closed.url + '/api/auth/register', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: uniqueName('late'), password: PASSWORD, inviteToken: doomed }),
      })
      expect(refused.status).toBe(403)
    } finally {
      await Promise.all(contexts.map((context) => context.close()))
      await closed.stop()
    }
  })

  it('creates a bot: its token and webhook secret shown once; its webhook listed where the server lists bots', async () => {
    const page = await openPage(await signedIn(browser, server, admin))
    await openAdministration(page)
    const name = uniqueName('deploybot')
    await page.getByLabel('Bot username').fill(name)
    await page.getByLabel('Webhook URL (optional)').fill('https://ci.example.com/hook')
    await page.getByRole('button', { name: 'Create bot' }).click()
    const token = await page.getByRole('textbox', { name: 'New bot token' }).inputValue()
    const me = await call<{ user: { username: string; role: string } }>(server, 'GET', '/api/auth/me', token)
    expect(me.user).toMatchObject({ username: name, role: 'bot' })
    // The secret signs webhook calls: shown once, beside the token.
    expect(await page.getByRole('textbox', { name: 'Webhook secret' }).inputValue()).toMatch(/^\S{16,}$/)
    const row = page.getByRole('list', { name: 'Bots' }).getByRole('listitem', { name: name, exact: true })
    await row.waitFor()
    // API.md has no listing of bots with their webhooks; where the server has one, the row shows it.
    const listing = await fetch(server.url + '/api/admin/bots', { headers: { Authorization: `Bearer ${admin.token}` } })
    if (listing.status === 200) await row.getByText('https://ci.example.com/hook').waitFor()
    else expect(listing.status).toBe(404)
    await page.getByRole('region', { name: 'Bots' }).screenshot({ path: join(ARTIFACTS, 'admin-bots.png') })
    page.once('dialog', (dialog) => void dialog.accept())
    await row.getByRole('button', { name: `Remove ${name}` }).click()
    await row.getByText('Removed').waitFor()
    expect((await fetch(server.url + '/api/auth/me', { headers: { Authorization: `Bearer ${token}` } })).status).toBe(401)
    await page.context().close()
  })

  it('account dialog: display name, password, and access tokens created once, listed and revoked', async () => {
    const person = await register(server, 'tinker', 'Tinker')
    const other = await openPage(await signedIn(browser, server, person))
    const page = await openPage(await signedIn(browser, server, person))
    await page.getByRole('button', { name: 'Account', exact: true }).click()
    const dialog = page.getByRole('dialog', { name: 'Account' })

    await dialog.getByLabel('Display name').fill('Tinker Tailor')
    await dialog.getByRole('button', { name: 'Save name' }).click()
    await dialog.getByText('Saved').waitFor()
    expect(await page.locator('.sidebar__me strong').textContent()).toBe('Tinker Tailor')

    await dialog.getByLabel('Token name').fill('deploy script')
    await dialog.getByLabel('Expires').selectOption({ label: '30 days' })
    await dialog.getByRole('button', { name: 'Create token' }).click()
    const token = await dialog.getByRole('textbox', { name: 'New access token' }).inputValue()
    expect((await call<{ user: { displayName: string } }>(server, 'GET', '/api/auth/me', token)).user.displayName).toBe('Tinker Tailor')
    await dialog.getByRole('list', { name: 'Your access tokens' }).getByText('deploy script').waitFor()
    await shoot(page, 'account-dialog')

    page.once('dialog', (confirm) => void confirm.accept())
    await dialog.getByRole('button', { name: 'Revoke deploy script' }).click()
    await dialog.getByText('No tokens yet.').waitFor()
    expect((await fetch(server.url + '/api/auth/me', { headers: { Authorization: `Bearer ${token}` } })).status).toBe(401)

    await dialog.getByLabel('Current password').fill('not my password')
    await dialog.getByLabel('New password').fill(NEW_PASSWORD)
    await dialog.getByRole('button', { name: 'Change password' }).click()
    await dialog.getByRole('alert').filter({ hasText: /./ }).waitFor()
    await dialog.getByLabel('Current password').fill(PASSWORD)
    await dialog.getByRole('button', { name: 'Change password' }).click()
    await dialog.getByText('Password changed').waitFor()
    expect(await signInStatus(server, person.username, NEW_PASSWORD)).toBe(200)
    // The other session ends; this one stays.
    await other.getByRole('heading', { name: 'Sign in to chat' }).waitFor()
    await dialog.getByRole('button', { name: 'Close' }).click()
    await page.reload()
    await page.getByRole('button', { name: 'Account', exact: true }).waitFor()
    await Promise.all([other.context().close(), page.context().close()])
  })
})
