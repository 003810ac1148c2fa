import { api, ApiError } from '../api.ts'
import { h } from '../dom.ts'
import type { Room } from '../types.ts'
import { errorLine, openDialog } from './dialog.ts'
import { createUserPicker } from './user-picker.ts'

/** Name, visibility and first members of a new group room. */
export function openNewRoomDialog(meId: number, created: (room: Room) => void): void {
  const name = h('input', { class: 'input', name: 'name', required: true, maxlength: 100, autocomplete: 'off', id: 'new-room-name' })
  const visibility = (value: string, label: string, detail: string, checked: boolean) =>
    h(
      'label',
      { class: 'choice' },
      h('input', { type: 'radio', name: 'visibility', value, checked }),
      h('span', {}, h('strong', {}, label), h('small', {}, detail)),
    )
  const picker = createUserPicker({ meId, mode: 'multiple' })
  const error = errorLine()
  const submit = h('button', { type: 'submit', class: 'button button--primary' }, 'Create room')
  const form = h(
    'form',
    { class: 'form' },
    h('div', {}, h('label', { class: 'field', for: 'new-room-name' }, 'Room name'), name),
    h(
      'fieldset',
      { class: 'choices' },
      h('legend', {}, 'Who can find it'),
      visibility('private', 'Private', 'Only the people you add', true),
      visibility('public', 'Public', 'Anyone can browse and join', false),
    ),
    h('fieldset', { class: 'members' }, h('legend', {}, 'Members'), picker.element),
    error,
    h('div', { class: 'form__actions' }, submit),
  )

  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const title = name.value.trim()
    if (!title) {
      error.textContent = 'Give the room a name.'
      name.focus()
      return
    }
    const chosen = new FormData(form).get('visibility') === 'public' ? 'public' : 'private'
    submit.disabled = true
    try {
      const room = await api.createRoom(title, chosen, picker.selected())
      close()
      created(room)
    } catch (failure) {
      error.textContent = failure instanceof ApiError ? failure.message : 'The room could not be created.'
      submit.disabled = false
    }
  })

  const { close } = openDialog('New room', form)
  name.focus()
}
