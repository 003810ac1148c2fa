import { avatar } from './avatar.ts'
import { h } from './dom.ts'
import { describeMessage, formatDay, formatFull, formatTime, sameDay } from './format.ts'
import { linkify } from './linkify.ts'
import type { Message } from './types.ts'

/** A message the server has not confirmed yet. */
export interface PendingMessage {
  clientMessageId: string
  roomId: number
  content: string
  createdAt: string
  state: 'sending' | 'failed'
  error: string | null
}

export interface ItemContext {
  meId: number
  nameOf(userId: number): string
  retry(clientMessageId: string): void
}

// Consecutive messages of one person within this span share one header.
const GROUP_SPAN_MS = 5 * 60_000

function continues(message: Message, previous: Message | undefined): boolean {
  if (!previous || previous.messageType !== 'MESSAGE' || message.messageType !== 'MESSAGE') return false
  if (previous.senderId !== message.senderId) return false
  return Date.parse(message.createdAt) - Date.parse(previous.createdAt) < GROUP_SPAN_MS && startsSameDay(message, previous)
}

function startsSameDay(message: Message, previous: Message | undefined): boolean {
  return previous !== undefined && sameDay(new Date(message.createdAt), new Date(previous.createdAt))
}

function dayDivider(iso: string): HTMLElement {
  return h('div', { class: 'day-divider', role: 'separator' }, h('span', {}, formatDay(iso)))
}

function stamp(iso: string): HTMLElement {
  return h('time', { class: 'message__time', datetime: iso, title: formatFull(iso) }, formatTime(iso))
}

/** One stored message, shaped by the one before it (day divider, grouped header). */
export function renderMessage(message: Message, previous: Message | undefined, context: ItemContext): HTMLLIElement {
  const divider = startsSameDay(message, previous) ? null : dayDivider(message.createdAt)
  const name = context.nameOf(message.senderId)

  if (message.messageType !== 'MESSAGE') {
    return h(
      'li',
      { class: 'message message--system', 'data-id': message.id },
      divider,
      h('p', { class: 'message__system' }, describeMessage(message, name), ' · ', stamp(message.createdAt)),
    )
  }

  const grouped = continues(message, previous)
  const own = message.senderId === context.meId
  return h(
    'li',
    {
      class: `message${grouped ? ' message--continued' : ''}${own ? ' message--own' : ''}`,
      'data-id': message.id,
    },
    divider,
    grouped ? h('span', { class: 'message__gutter' }, stamp(message.createdAt)) : avatar(message.senderId, name),
    h(
      'div',
      { class: 'message__body' },
      grouped ? null : h('div', { class: 'message__meta' }, h('span', { class: 'message__author' }, name), stamp(message.createdAt)),
      h('div', { class: 'message__text' }, ...linkify(message.content)),
    ),
  )
}

/** A message on its way: dimmed while sending; when it failed, the reason and a retry button. */
export function renderPending(pending: PendingMessage, context: ItemContext): HTMLLIElement {
  const name = context.nameOf(context.meId)
  const failed = pending.state === 'failed'
  return h(
    'li',
    {
      class: `message message--own message--pending${failed ? ' message--failed' : ''}`,
      'data-client-id': pending.clientMessageId,
      'aria-busy': failed ? null : 'true',
    },
    avatar(context.meId, name),
    h(
      'div',
      { class: 'message__body' },
      h('div', { class: 'message__meta' }, h('span', { class: 'message__author' }, name), stamp(pending.createdAt)),
      h('div', { class: 'message__text' }, ...linkify(pending.content)),
      failed
        ? h(
            'div',
            { class: 'message__status message__status--failed', role: 'alert' },
            `Not sent${pending.error ? `: ${pending.error}` : ''}`,
            h(
              'button',
              { type: 'button', class: 'link-button', onclick: () => context.retry(pending.clientMessageId) },
              'Retry',
            ),
          )
        : h('div', { class: 'message__status' }, 'Sending…'),
    ),
  )
}
