import { openDialog } from './dialogs/dialog.ts'
import { h } from './dom.ts'
import { formatBytes } from './format.ts'
import { downloadIcon, fileIcon } from './icons.ts'
import type { Attachment } from './types.ts'

// The box an inline image is scaled into, in CSS pixels; narrower screens shrink it further
// (max-width in CSS), keeping the ratio that the width and height attributes give.
const INLINE_MAX_WIDTH = 360
const INLINE_MAX_HEIGHT = 280

// The types the server serves inline as images (API.md); any other file is a download.
const INLINE_IMAGES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp'])

const isInlineImage = (file: Attachment): file is Attachment & { width: number; height: number } =>
  INLINE_IMAGES.has(file.contentType) && file.width !== null && file.height !== null && file.width > 0 && file.height > 0

// Every file is served from this path of this origin (API.md): any other address, a
// `javascript:` one above all, is never put into a link or an image.
const FILE_PATH = '/api/chat/attachments/'

/** A message's files: images inline (a click opens them full size), the others as download chips. */
export function renderAttachments(files: Attachment[]): HTMLElement | null {
  const served = files.filter((file) => file.url.startsWith(FILE_PATH))
  if (served.length === 0) return null
  return h('div', { class: 'attachments' }, ...served.map((file) => (isInlineImage(file) ? image(file) : chip(file))))
}

function image(file: Attachment & { width: number; height: number }): HTMLElement {
  const scale = Math.min(1, INLINE_MAX_WIDTH / file.width, INLINE_MAX_HEIGHT / file.height)
  // The size is known before a byte of the image is: the box is reserved and nothing below it jumps.
  const picture = h('img', {
    class: 'attachment-image__img',
    src: file.url,
    alt: file.name,
    width: Math.max(1, Math.round(file.width * scale)),
    height: Math.max(1, Math.round(file.height * scale)),
    loading: 'lazy',
    decoding: 'async',
  })
  return h(
    'button',
    { type: 'button', class: 'attachment-image', 'aria-label': `Open image ${file.name}`, title: file.name, onclick: () => openImage(file) },
    picture,
  )
}

/** A download link: the name and size; the server sends it as an attachment with its name. */
function chip(file: Attachment): HTMLElement {
  return h(
    'a',
    { class: 'attachment-file', href: file.url, download: file.name, title: `Download ${file.name}` },
    h('span', { class: 'attachment-file__icon' }, fileIcon()),
    h('span', { class: 'attachment-file__text' }, h('span', { class: 'attachment-file__name' }, file.name), h('span', { class: 'attachment-file__size' }, formatBytes(file.size))),
    h('span', { class: 'attachment-file__download' }, downloadIcon()),
  )
}

/** The image at full size (scaled down only to fit the screen), with a way to download it. */
function openImage(file: Attachment & { width: number; height: number }): void {
  const { dialog } = openDialog(
    file.name,
    h(
      'div',
      { class: 'image-viewer__frame' },
      h('img', { class: 'image-viewer__img', src: file.url, alt: file.name, width: file.width, height: file.height }),
    ),
    h(
      'p',
      { class: 'image-viewer__meta' },
      `${file.width} × ${file.height} · ${formatBytes(file.size)}`,
      h('a', { class: 'link-button', href: file.url, download: file.name }, 'Download'),
    ),
  )
  dialog.classList.add('image-viewer')
}
