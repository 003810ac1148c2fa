/**
 * Headless Chromium (Debian's package) driven by playwright-core. Under CI the browser must be
 * there: a missing one fails the run instead of quietly skipping the web tests.
 */
import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

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
