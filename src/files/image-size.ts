/**
 * The pixel size of a PNG, JPEG, GIF or WebP image, read from the first bytes of its file
 * (HEAD_BYTES are enough for every common file: a JPEG's size follows its metadata segments).
 * Pure: bytes in, size out; null for anything else, or a header cut short.
 *
 * A JPEG whose Exif orientation turns it a quarter (5-8, as phones write) is reported as shown,
 * width and height swapped, since browsers display it turned and a client reserves its box.
 */

export const HEAD_BYTES = 256 * 1024

export type ImageType = 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp'

export interface ImageSize {
  type: ImageType
  width: number
  height: number
}

export function imageSize(bytes: Uint8Array): ImageSize | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const size = png(bytes, view) ?? gif(bytes, view) ?? webp(bytes, view) ?? jpeg(bytes, view)
  return size && size.width > 0 && size.height > 0 ? size : null
}

const ascii = (bytes: Uint8Array, at: number, text: string) =>
  bytes.length >= at + text.length && [...text].every((c, i) => bytes[at + i] === c.charCodeAt(0))

function png(bytes: Uint8Array, view: DataView): ImageSize | null {
  if (bytes.length < 24 || !ascii(bytes, 1, 'PNG\r\n\x1a\n') || bytes[0] !== 0x89 || !ascii(bytes, 12, 'IHDR')) return null
  return { type: 'image/png', width: view.getUint32(16), height: view.getUint32(20) }
}

function gif(bytes: Uint8Array, view: DataView): ImageSize | null {
  if (bytes.length < 10 || !(ascii(bytes, 0, 'GIF87a') || ascii(bytes, 0, 'GIF89a'))) return null
  return { type: 'image/gif', width: view.getUint16(6, true), height: view.getUint16(8, true) }
}

function webp(bytes: Uint8Array, view: DataView): ImageSize | null {
  if (bytes.length < 30 || !ascii(bytes, 0, 'RIFF') || !ascii(bytes, 8, 'WEBP')) return null
  const uint24 = (at: number) => bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16)
  if (ascii(bytes, 12, 'VP8X')) return { type: 'image/webp', width: uint24(24) + 1, height: uint24(27) + 1 }
  if (ascii(bytes, 12, 'VP8L')) {
    if (bytes[20] !== 0x2f) return null
    const bits = view.getUint32(21, true)
    return { type: 'image/webp', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 }
  }
  if (ascii(bytes, 12, 'VP8 ')) {
    // A key frame: 3 bytes of frame tag, the start code 9d 01 2a, then 14-bit width and height.
    if (bytes[23] !== 0x9d || bytes[24] !== 0x01 || bytes[25] !== 0x2a) return null
    return { type: 'image/webp', width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff }
  }
  return null
}

/** Start-of-frame markers (baseline, progressive, lossless, arithmetic): C0-CF but C4, C8, CC. */
const isStartOfFrame = (marker: number) => marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc

function jpeg(bytes: Uint8Array, view: DataView): ImageSize | null {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return null
  let quarterTurn = false
  let at = 2
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return null
    const marker = bytes[at + 1]!
    // Fill bytes, and markers that stand alone (no length).
    if (marker === 0xff) {
      at += 1
      continue
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      at += 2
      continue
    }
    if (marker === 0xd9 || marker === 0xda) return null
    const length = view.getUint16(at + 2)
    if (length < 2) return null
    if (isStartOfFrame(marker)) {
      if (at + 9 > bytes.length) return null
      const height = view.getUint16(at + 5)
      const width = view.getUint16(at + 7)
      return { type: 'image/jpeg', width: quarterTurn ? height : width, height: quarterTurn ? width : height }
    }
    if (marker === 0xe1 && ascii(bytes, at + 4, 'Exif\0\0')) {
      const orientation = exifOrientation(bytes.subarray(at + 10, Math.min(bytes.length, at + 2 + length)))
      quarterTurn = orientation !== null && orientation >= 5 && orientation <= 8
    }
    at += 2 + length
  }
  return null
}

/** The Orientation tag (0x0112) of the first image directory of an Exif TIFF block. */
function exifOrientation(tiff: Uint8Array): number | null {
  if (tiff.length < 8) return null
  const little = ascii(tiff, 0, 'II')
  if (!little && !ascii(tiff, 0, 'MM')) return null
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength)
  const directory = view.getUint32(4, little)
  if (directory + 2 > tiff.length) return null
  const entries = view.getUint16(directory, little)
  for (let i = 0; i < entries; i++) {
    const entry = directory + 2 + i * 12
    if (entry + 12 > tiff.length) return null
    if (view.getUint16(entry, little) === 0x0112) return view.getUint16(entry + 8, little)
  }
  return null
}
