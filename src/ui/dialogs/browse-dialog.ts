import { api, ApiError } from '../api.ts'
import { h } from '../dom.ts'
import { hashIcon } from '../icons.ts'
import type { Room } from '../types.ts'
import { errorLine, openDialog } from './dialog.ts'

/** Public rooms the person is not in yet, each with a Join button. */
export function openBrowseDialog(joined: (room: Room) => void): void {
  const list = h('ul', { class: 'public-rooms', role: 'list', 'aria-label': 'Public rooms' })
  const status = h('p', { class: 'people__status', 'aria-live': 'polite' }, 'Loading rooms…')
  const error = errorLine()

  function row(room: Room): HTMLLIElement {
    const members = room.participants.length
    const join = h('button', { type: 'button', class: 'button', 'aria-label': `Join ${room.name}` }, 'Join')
    join.addEventListener('click', async () => {
      join.disabled = true
      try {
        const entered = await api.joinRoom(room.id)
        close()
        joined(entered)
      } catch (failure) {
        error.textContent = failure instanceof ApiError ? failure.message : 'The room could not be joined.'
        join.disabled = false
      }
    })
    return h(
      'li',
      { class: 'public-room', 'data-room-id': room.id },
      h('span', { class: 'room-glyph' }, hashIcon()),
      h('span', { class: 'public-room__text' }, h('strong', {}, room.name), h('small', {}, `${members} ${members === 1 ? 'member' : 'members'}`)),
      join,
    )
  }

  const { close } = openDialog('Browse public rooms', status, list, error)
  api
    .publicRooms()
    .then((rooms) => {
      list.replaceChildren(...rooms.map(row))
      status.textContent = rooms.length ? '' : 'No public rooms to join right now.'
    })
    .catch(() => {
      status.textContent = 'Public rooms could not be loaded.'
    })
}
