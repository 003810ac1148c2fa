/**
 * src/files/image-size.ts on real files: Chromium encodes PNG, JPEG and WebP (lossy, lossless,
 * with alpha) from a canvas, a small encoder here writes a GIF, and for every file the size the
 * module reads must be the size Chromium decodes. A JPEG given an Exif orientation that turns
 * it a quarter is reported as the browser shows it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import type { Browser, Page } from 'playwright-core'
import { imageSize } from '../src/files/image-size'
import { browserUnavailable, launchBrowser } from './support/browser'

const unavailable = browserUnavailable()
let browser: Browser
let page: Page

beforeAll(async () => {
  if (unavailable) return
  browser = await launchBrowser()
  page = await browser.newPage()
})
afterAll(() => browser?.close())

/** Chromium's encoding of a width x height canvas (opaque unless `alpha`). */
async function encode(type: string, width: number, height: number, quality?: number, alpha = false): Promise<Uint8Array> {
  const url = await page.evaluate(
    ({ type, width, height, quality, alpha }) => {
      const canvas = document.createElement('canvas')
      canvas.width = width
      canvas.height = height
      const g = canvas.getContext('2d', { alpha })!
      g.fillStyle = '#3a6'
      g.fillRect(0, 0, alpha ? width / 2 : width, height)
      return canvas.toDataURL(type, quality)
    },
    { type, width, height, quality, alpha },
  )
  return Buffer.from(url.slice(url.indexOf(',') + 1), 'base64')
}

/**
 * Chromium's canvas always writes the extended WebP layout (VP8X first). An opaque image's
 * bitstream chunk, rewrapped alone, is the simple layout (VP8 or VP8L first), as most encoders
 * write it.
 */
function simpleWebp(extended: Uint8Array): Uint8Array {
  const view = new DataView(extended.buffer, extended.byteOffset, extended.byteLength)
  for (let at = 12; at + 8 <= extended.length; ) {
    const kind = Buffer.from(extended.subarray(at, at + 4)).toString()
    const size = view.getUint32(at + 4, true)
    if (kind === 'VP8 ' || kind === 'VP8L') {
      const chunk = extended.subarray(at, at + 8 + size + (size % 2))
      const riff = Buffer.alloc(12)
      riff.write('RIFF', 0)
      riff.writeUInt32LE(4 + chunk.length, 4)
      riff.write('WEBP', 8)
      return Buffer.concat([riff, chunk])
    }
    at += 8 + size + (size % 2)
  }
  throw new Error('no VP8 or VP8L chunk')
}

/** The size Chromium decodes the bytes to (Exif orientation applied, as an <img> shows it). */
async function decoded(bytes: Uint8Array, type: string): Promise<{ width: number; height: number }> {
  return page.evaluate(
    async ({ base64, type }) => {
      const img = new Image()
      img.src = `data:${type};base64,${base64}`
      await img.decode()
      return { width: img.naturalWidth, height: img.naturalHeight }
    },
    { base64: Buffer.from(bytes).toString('base64'), type },
  )
}

/**
 * A valid GIF of one colour. Its LZW stream sends a clear code before every two pixels, so the
 * codes stay 3 bits wide and no table is needed.
 */
function gif(width: number, height: number): Uint8Array {
  const codes: number[] = []
  for (let left = width * height; left > 0; left -= 2) codes.push(4, ...(left > 1 ? [0, 0] : [0]))
  codes.push(5)
  const packed: number[] = []
  let bits = 0
  let used = 0
  for (const code of codes) {
    bits |= code << used
    used += 3
    while (used >= 8) {
      packed.push(bits & 0xff)
      bits >>= 8
      used -= 8
    }
  }
  if (used > 0) packed.push(bits)
  const blocks: number[] = []
  for (let i = 0; i < packed.length; i += 255) blocks.push(Math.min(255, packed.length - i), ...packed.slice(i, i + 255))
  const le = (n: number) => [n & 0xff, n >> 8]
  return new Uint8Array([
    ...Buffer.from('GIF89a'), ...le(width), ...le(height), 0x80, 0, 0, // a global table of 2 colours
    0x33, 0xaa, 0x66, 0, 0, 0,
    0x2c, 0, 0, 0, 0, ...le(width), ...le(height), 0, // the image, at 0,0
    2, ...blocks, 0, 0x3b,
  ])
}

/** The JPEG with an Exif segment (orientation only) right after its start marker. */
function withOrientation(jpeg: Uint8Array, orientation: number): Uint8Array {
  const tiff = [0x4d, 0x4d, 0, 0x2a, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0, 0, 0, 0, 0, 0, 0]
  const body = [...Buffer.from('Exif\0\0'), ...tiff]
  const segment = [0xff, 0xe1, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body]
  return new Uint8Array([...jpeg.subarray(0, 2), ...segment, ...jpeg.subarray(2)])
}

describe.skipIf(unavailable !== null)('image sizes, as Chromium decodes them', () => {
  const cases: [string, string, number, number, number | undefined, boolean][] = [
    ['PNG', 'image/png', 37, 21, undefined, false],
    ['JPEG', 'image/jpeg', 640, 3, 0.9, false],
    ['WebP lossy', 'image/webp', 301, 199, 0.8, false],
    ['WebP lossless', 'image/webp', 5, 1000, 1, false],
    ['WebP with alpha', 'image/webp', 123, 45, 0.8, true],
  ]
  const webpLayouts: string[] = []
  for (const [label, type, width, height, quality, alpha] of cases) {
    it(label, async () => {
      const encoded = await encode(type, width, height, quality, alpha)
      const variants = type === 'image/webp' && !alpha ? [encoded, simpleWebp(encoded)] : [encoded]
      for (const bytes of variants) {
        if (type === 'image/webp') webpLayouts.push(Buffer.from(bytes.subarray(12, 16)).toString())
        expect(await decoded(bytes, type)).toEqual({ width, height })
        expect(imageSize(bytes)).toEqual({ type: type as 'image/png', width, height })
      }
    })
  }

  it('the WebP cases cover each of its three layouts', () => {
    expect([...new Set(webpLayouts)].sort()).toEqual(['VP8 ', 'VP8L', 'VP8X'])
  })

  it('GIF', async () => {
    const bytes = gif(17, 9)
    expect(await decoded(bytes, 'image/gif')).toEqual({ width: 17, height: 9 })
    expect(imageSize(bytes)).toEqual({ type: 'image/gif', width: 17, height: 9 })
  })

  it('a JPEG turned a quarter by its Exif orientation is as wide as it shows', async () => {
    const plain = await encode('image/jpeg', 60, 20, 0.9)
    for (const orientation of [1, 3, 6, 8]) {
      const bytes = withOrientation(plain, orientation)
      const shown = await decoded(bytes, 'image/jpeg')
      expect(shown).toEqual(orientation >= 5 ? { width: 20, height: 60 } : { width: 60, height: 20 })
      expect(imageSize(bytes)).toEqual({ type: 'image/jpeg', ...shown })
    }
  })
})

describe('what is not an image, or not whole', () => {
  it('answers null for other bytes and for headers cut short', async () => {
    expect(imageSize(new Uint8Array(0))).toBeNull()
    expect(imageSize(Buffer.from('<img src=x onerror=alert(1)>'))).toBeNull()
    expect(imageSize(Buffer.from('GIF8'))).toBeNull()
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 3, 0, 0, 0, 2])
    expect(imageSize(png)).toEqual({ type: 'image/png', width: 3, height: 2 })
    expect(imageSize(png.subarray(0, 20))).toBeNull()
    // A JPEG whose frame header is past the bytes given.
    expect(imageSize(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, ...new Array(14).fill(0)]))).toBeNull()
    // A zero-sized image is no image.
    expect(imageSize(gif(1, 1).map((b, i) => (i === 6 ? 0 : b)))).toBeNull()
  })
})
