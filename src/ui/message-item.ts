import { renderAttachments } from './attachment-view.ts'
import { avatar } from './avatar.ts'
import { h } from './dom.ts'
import { describeMessage, formatDay, formatFull, formatTime, sameDay } from './format.ts'
import { editIcon, moreIcon, replyIcon, smileIcon, trashIcon } from './icons.ts'
import { linkify } from './linkify.ts'
import { openMenu, type MenuItem } from './menu.ts'
import { renderText } from './message-text.ts'
import type { Attachment, Message, Reaction } from './types.ts'

/** A message the server has not confirmed yet. */
export interface PendingMessage {
  clientMessageId: string
  roomId: number
  content: string
  replyToId: number | null
  /** Uploaded already; posted with the message by their ids. */
  attachments: Attachment[]
  createdAt: string
  state: 'sending' | 'failed'
  error: string | null
}

export interface ItemContext {
  meId: number
  nameOf(userId: number): string
  retry(clientMessageId: string): void
}

/** What a stored message needs to know and can do. */
export interface MessageContext extends ItemContext {
  usernameOf(userId: number): string | undefined
  /** The message a reply answers: itself, null when it was deleted, undefined while unknown. */
  quoted(message: Message): Message | null | undefined
  canEdit(message: Message): boolean
  canDelete(message: Message): boolean
  reply(message: Message): void
  pickReaction(message: Message, anchor: HTMLElement): void
  toggleReaction(message: Message, emoji: string): void
  edit(message: Message): void
  remove(message: Message): void
  /** Scrolls to a message and marks it for a moment. */
  reveal(messageId: number): void
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

/**
 * One stored message, shaped by the one before it (day divider, grouped header). `editor`, when
 * given, stands in for the text: the message is being edited.
 */
export function renderMessage(message: Message, previous: Message | undefined, context: MessageContext, editor: HTMLElement | null = null): HTMLLIElement {
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

  const grouped = continues(message, previous) && message.replyToId === null
  const own = message.senderId === context.meId
  const mentionsMe = !own && message.mentions.includes(context.meId)
  const classes = ['message']
  if (grouped) classes.push('message--continued')
  if (own) classes.push('message--own')
  if (mentionsMe) classes.push('message--mention')
  if (editor) classes.push('message--editing')
  const item = h(
    'li',
    { class: classes.join(' '), 'data-id': message.id },
    divider,
    grouped ? h('span', { class: 'message__gutter' }, stamp(message.createdAt)) : avatar(message.senderId, name),
    h(
      'div',
      { class: 'message__body' },
      grouped ? null : h('div', { class: 'message__meta' }, h('span', { class: 'message__author' }, name), stamp(message.createdAt)),
      message.replyToId === null ? null : quote(message, context),
      editor ??
        // A message of files alone has no text to show.
        (message.content === '' && !message.editedAt
          ? null
          : h(
              'div',
              { class: 'message__content' },
              h('span', { class: 'message__text' }, ...renderText(message.content, mentionedNames(message, context))),
              message.editedAt ? h('span', { class: 'message__edited', title: `Edited ${formatFull(message.editedAt)}` }, '(edited)') : null,
            )),
      renderAttachments(message.attachments),
      message.reactions.length ? reactions(message, context) : null,
    ),
    editor ? null : actions(message, context),
  )
  // A tap on a touch screen has no hover: it shows the message's actions instead.
  item.addEventListener('click', (event) => {
    if ((event.target as Element).closest('button, a, textarea, input')) return
    if (!matchMedia('(hover: none)').matches) return
    for (const other of item.parentElement?.querySelectorAll('.message--selected') ?? []) if (other !== item) other.classList.remove('message--selected')
    item.classList.toggle('message--selected')
  })
  return item
}

/** Lower-case usernames of the people the message mentions -> whether it is the reader. */
function mentionedNames(message: Message, context: MessageContext): Map<string, boolean> {
  const names = new Map<string, boolean>()
  for (const userId of message.mentions) {
    const username = context.usernameOf(userId)
    if (username) names.set(username.toLowerCase(), userId === context.meId)
  }
  return names
}

function quote(message: Message, context: MessageContext): HTMLElement {
  const original = context.quoted(message)
  if (original === null) return h('div', { class: 'quote quote--gone' }, 'Replying to a deleted message')
  if (original === undefined) return h('div', { class: 'quote quote--loading', 'aria-busy': 'true' }, 'Replying to an earlier message…')
  const author = context.nameOf(original.senderId)
  return h(
    'button',
    { type: 'button', class: 'quote', title: 'Show the original message', onclick: () => context.reveal(original.id) },
    h('span', { class: 'quote__author' }, author),
    h('span', { class: 'quote__text' }, describeMessage(original, author)),
  )
}

function reactions(message: Message, context: MessageContext): HTMLElement {
  return h('div', { class: 'reactions' }, ...message.reactions.map((reaction) => chip(message, reaction, context)))
}

function chip(message: Message, reaction: Reaction, context: MessageContext): HTMLElement {
  const mine = reaction.userIds.includes(context.meId)
  const names = reaction.userIds.map((userId) => (userId === context.meId ? 'You' : context.nameOf(userId)))
  return h(
    'button',
    {
      type: 'button',
      class: `reaction${mine ? ' reaction--mine' : ''}`,
      'aria-pressed': String(mine),
      title: `${names.join(', ')} reacted with ${reaction.emoji}`,
      onclick: () => context.toggleReaction(message, reaction.emoji),
    },
    h('span', { class: 'reaction__emoji' }, reaction.emoji),
    h('span', { class: 'reaction__count' }, String(reaction.count)),
  )
}

/** The hover (or focus, or tap) toolbar: react, reply, and the menu with the rest. */
function actions(message: Message, context: MessageContext): HTMLElement {
  const tool = (label: string, icon: SVGSVGElement, onclick: (event: MouseEvent) => void, popup: 'dialog' | 'menu' | null = null) =>
    h('button', { type: 'button', class: 'message__action', 'aria-label': label, title: label, 'aria-haspopup': popup, onclick }, icon)
  const react = tool('Add reaction', smileIcon(), (event) => context.pickReaction(message, event.currentTarget as HTMLElement), 'dialog')
  const more: HTMLButtonElement = tool('Message actions', moreIcon(), () => {
    const items: MenuItem[] = [
      { label: 'Reply', icon: replyIcon, run: () => context.reply(message) },
      { label: 'Add reaction', icon: smileIcon, run: () => context.pickReaction(message, react) },
    ]
    if (context.canEdit(message)) items.push({ label: 'Edit message', icon: editIcon, run: () => context.edit(message) })
    if (context.canDelete(message)) items.push({ label: 'Delete message', icon: trashIcon, danger: true, run: () => context.remove(message) })
    openMenu(more, 'Message actions', items)
  }, 'menu')
  return h('div', { class: 'message__actions' }, react, tool('Reply', replyIcon(), () => context.reply(message)), more)
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
      pending.content ? h('div', { class: 'message__text' }, ...linkify(pending.content)) : null,
      renderAttachments(pending.attachments),
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
