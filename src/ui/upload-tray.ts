import { ApiError } from './api.ts'
import { h } from './dom.ts'
import { formatBytes } from './format.ts'
import { closeIcon, fileIcon } from './icons.ts'
import type { Attachment } from './types.ts'
import { uploadFile, uploadLimit, type Upload } from './upload.ts'

// API.md: a message takes 1-10 files.
const MAX_FILES = 10

interface Entry {
  file: File
  state: 'uploading' | 'uploaded' | 'failed'
  upload: Upload | null
  attachment: Attachment | null
  element: HTMLLIElement
  bar: HTMLProgressElement
  status: HTMLElement
  button: HTMLButtonElement
}

export interface UploadTrayOptions {
  /** The room files go to: the one open when they were added. */
  roomId(): number | null
  /** An upload started, finished, failed or was removed. */
  changed(): void
}

/**
 * The files on their way into the next message, above the message box. Each uploads as soon as
 * it is added, with its own progress bar and a button that cancels it (or, once uploaded or
 * failed, takes it off); the message then posts the uploaded ones by id. A file over the limit
 * the server is known to have is refused here, before a byte is sent.
 */
export function createUploadTray(options: UploadTrayOptions) {
  const list = h('ul', { class: 'upload-tray', 'aria-label': 'Files to send', hidden: true })
  let entries: Entry[] = []

  function changed(): void {
    list.hidden = entries.length === 0
    options.changed()
  }

  function removeEntry(entry: Entry): void {
    entry.upload?.cancel()
    entries = entries.filter((other) => other !== entry)
    entry.element.remove()
    changed()
  }

  /** `retryIn`: the room to try again in, when trying again can help (no connection, a server error). */
  function fail(entry: Entry, reason: string, retryIn: number | null = null): void {
    entry.state = 'failed'
    entry.upload = null
    entry.element.classList.add('upload--failed')
    entry.bar.hidden = true
    entry.status.replaceChildren(reason)
    entry.status.setAttribute('role', 'alert')
    if (retryIn !== null) {
      const again = () => {
        entry.state = 'uploading'
        entry.element.classList.remove('upload--failed')
        entry.status.removeAttribute('role')
        entry.status.textContent = formatBytes(entry.file.size)
        entry.bar.value = 0
        entry.bar.hidden = false
        label(entry, `Cancel upload of ${entry.file.name}`)
        start(entry, retryIn)
        changed()
      }
      entry.status.append(' ', h('button', { type: 'button', class: 'link-button', onclick: again }, 'Retry'))
    }
    label(entry, `Remove ${entry.file.name}`)
    changed()
  }

  function label(entry: Entry, text: string): void {
    entry.button.setAttribute('aria-label', text)
    entry.button.title = text
  }

  function tooLarge(file: File): string {
    const limit = uploadLimit()
    // Just over the limit, the sizes are told apart by a finer rounding (2.01 MB, not 2 MB).
    const digits = formatBytes(file.size) === formatBytes(limit) ? 2 : 1
    return `Too large: ${formatBytes(file.size, digits)}; files can be at most ${formatBytes(limit, digits)}.`
  }

  function start(entry: Entry, roomId: number): void {
    const retryable = (error: ApiError) => error.status === 0 || error.status >= 500
    entry.upload = uploadFile(roomId, entry.file, (sent, total) => {
      entry.bar.max = total
      entry.bar.value = sent
    })
    entry.upload.done.then(
      (attachment) => {
        if (!entries.includes(entry)) return
        entry.state = 'uploaded'
        entry.upload = null
        entry.attachment = attachment
        entry.element.classList.add('upload--done')
        entry.bar.hidden = true
        entry.status.textContent = formatBytes(attachment.size)
        label(entry, `Remove ${entry.file.name}`)
        changed()
      },
      (error: unknown) => {
        if (!entries.includes(entry) || (error instanceof ApiError && error.code === 'aborted')) return
        if (error instanceof ApiError && error.status === 413) return fail(entry, tooLarge(entry.file))
        if (!(error instanceof ApiError)) return fail(entry, 'Not uploaded.')
        fail(entry, `Not uploaded: ${error.status === 0 ? 'no connection' : error.message}`, retryable(error) ? roomId : null)
      },
    )
  }

  function add(file: File): void {
    const bar = h('progress', { class: 'upload__bar', max: file.size || 1, value: 0, 'aria-label': `Uploading ${file.name}` })
    const status = h('span', { class: 'upload__status' }, formatBytes(file.size))
    const button: HTMLButtonElement = h('button', { type: 'button', class: 'icon-button icon-button--small upload__remove', onclick: () => removeEntry(entry) }, closeIcon())
    const element = h(
      'li',
      { class: 'upload' },
      h('span', { class: 'upload__icon' }, fileIcon()),
      h('span', { class: 'upload__text' }, h('span', { class: 'upload__name' }, file.name), bar, status),
      button,
    )
    const entry: Entry = { file, state: 'uploading', upload: null, attachment: null, element, bar, status, button }
    label(entry, `Cancel upload of ${file.name}`)
    entries.push(entry)
    list.appendChild(element)
    const roomId = options.roomId()
    if (entries.filter((other) => other.state !== 'failed').length > MAX_FILES) fail(entry, `A message takes at most ${MAX_FILES} files.`)
    else if (file.size > uploadLimit()) fail(entry, tooLarge(file))
    else if (roomId === null) fail(entry, 'Open a conversation first.')
    else start(entry, roomId)
  }

  return {
    element: list,

    add(files: Iterable<File>): void {
      for (const file of files) add(file)
      changed()
    },

    uploading: (): boolean => entries.some((entry) => entry.state === 'uploading'),

    /** The uploaded files, in the order they were added. */
    uploaded: (): Attachment[] => entries.flatMap((entry) => (entry.attachment ? [entry.attachment] : [])),

    /** The uploaded files went out with a message: off the tray. Failed ones stay, with their reason. */
    sent(): void {
      for (const entry of entries.filter((entry) => entry.state === 'uploaded')) entry.element.remove()
      entries = entries.filter((entry) => entry.state !== 'uploaded')
      changed()
    },

    /** Another room: uploads in flight are cancelled, and everything is taken off. */
    clear(): void {
      for (const entry of entries) entry.upload?.cancel()
      entries = []
      list.replaceChildren()
      changed()
    },
  }
}
