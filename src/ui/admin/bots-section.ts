import { accountApi, type Bot, type Delivery } from '../account-api.ts'
import { ApiError } from '../api.ts'
import { avatar } from '../avatar.ts'
import { failureText, formatWhen } from '../account-text.ts'
import { copyField } from '../copy-field.ts'
import { errorLine } from '../dialogs/dialog.ts'
import { h } from '../dom.ts'
import { changeOnClick, listLoader } from '../reloading-list.ts'
import { adminSection } from './admin-section.ts'
import { allPeople } from './people-section.ts'

/** The bots with their webhooks; a server without the bot listing gives the bot accounts alone. */
async function readBots(): Promise<Bot[]> {
  try {
    return await accountApi.bots()
  } catch (failure) {
    if (!(failure instanceof ApiError && failure.status === 404)) throw failure
    return (await allPeople()).filter((person) => person.role === 'bot').map((user) => ({ user, webhookUrl: null }))
  }
}

function deliveryText(last: Delivery | null, pending: number): string {
  const waiting = pending > 0 ? ` · ${pending} waiting` : ''
  if (!last) return `No calls yet${waiting}`
  const answer = last.status === null ? (last.error ?? 'no answer') : `answered ${last.status}`
  return `Last call ${formatWhen(last.at)}: ${last.ok ? 'delivered' : 'failed'}, ${answer}${waiting}`
}

/**
 * Bots: make one (its token, and its webhook secret when the server gives one, are shown once)
 * and see each bot with its webhook URL; removing one deactivates it.
 */
export function createBotsSection() {
  const list = h('ul', { class: 'admin-list', role: 'list', 'aria-label': 'Bots' })
  const status = h('p', { class: 'people__status', 'aria-live': 'polite' })
  const error = errorLine()
  const fresh = h('div', { class: 'token-new', 'aria-live': 'polite' })

  const field = (id: string, label: string, input: HTMLInputElement) => h('div', {}, h('label', { class: 'field', for: id }, label), input)
  const username = h('input', { class: 'input', id: 'bot-username', name: 'username', required: true, maxlength: 32, autocapitalize: 'none', spellcheck: 'false', autocomplete: 'off' })
  const displayName = h('input', { class: 'input', id: 'bot-display-name', name: 'displayName', maxlength: 64, autocomplete: 'off' })
  const webhook = h('input', { class: 'input', id: 'bot-webhook', name: 'webhookUrl', type: 'url', maxlength: 2048, placeholder: 'https://…', autocomplete: 'off' })
  const create = h('button', { type: 'submit', class: 'button button--primary' }, 'Create bot')
  const form = h(
    'form',
    { class: 'form form--inline form--bots' },
    field('bot-username', 'Bot username', username),
    field('bot-display-name', 'Display name (optional)', displayName),
    field('bot-webhook', 'Webhook URL (optional)', webhook),
    h('div', { class: 'form__end' }, create),
  )
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    error.textContent = ''
    create.disabled = true
    try {
      const made = await accountApi.createBot(username.value.trim(), displayName.value.trim() || undefined, webhook.value.trim() || undefined)
      form.reset()
      fresh.replaceChildren(
        h('p', { class: 'token-new__title' }, `Token for @${made.user.username}`),
        copyField(made.token, 'Copy token', { secret: true, name: 'New bot token' }),
        made.webhookSecret
          ? h(
              'div',
              {},
              h('p', { class: 'token-new__title' }, 'Webhook signing secret'),
              copyField(made.webhookSecret, 'Copy secret', { secret: true, name: 'Webhook secret' }),
            )
          : '',
      )
      await load()
    } catch (failure) {
      error.textContent = failureText(failure, 'The bot could not be made.')
    } finally {
      create.disabled = false
    }
  })

  function row({ user: bot, webhookUrl, lastDelivery, pending }: Bot): HTMLLIElement {
    const remove = changeOnClick(
      h('button', { type: 'button', class: 'button button--small button--caution', 'aria-label': `Remove ${bot.username}` }, 'Remove'),
      error,
      () => accountApi.removeBot(bot.id),
      load,
      'The bot could not be removed.',
      `Remove the bot ${bot.displayName}? Its token stops working at once.`,
    )
    return h(
      'li',
      { class: `admin-row${bot.deactivated ? ' admin-row--off' : ''}`, 'data-user-id': bot.id, 'aria-label': bot.username },
      h(
        'div',
        { class: 'admin-row__main' },
        avatar(bot.id, bot.displayName, 'small'),
        h('span', { class: 'admin-row__text' }, h('strong', {}, bot.displayName), h('small', {}, `@${bot.username}`)),
        h('span', { class: 'admin-row__tags' }, h('span', { class: `tag${bot.deactivated ? ' tag--off' : ' tag--ok'}` }, bot.deactivated ? 'Removed' : 'Active')),
        h('span', { class: 'admin-row__actions' }, bot.deactivated ? null : remove),
      ),
      webhookUrl
        ? h(
            'div',
            { class: 'admin-row__extra' },
            h('small', { class: 'webhook' }, 'Webhook: ', h('code', {}, webhookUrl)),
            lastDelivery === undefined ? null : h('small', { class: `delivery${lastDelivery && !lastDelivery.ok ? ' delivery--failed' : ''}` }, deliveryText(lastDelivery, pending ?? 0)),
          )
        : null,
    )
  }

  const load = listLoader(list, status, readBots, row, { empty: 'No bots yet.', failed: 'Bots could not be loaded.' })

  const element = adminSection(
    'admin-bots',
    'Bots',
    'Accounts for programs: they post with a token and are told of messages for them at their webhook.',
    form,
    error,
    fresh,
    status,
    list,
  )
  return { element, load }
}
