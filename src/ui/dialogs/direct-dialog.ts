import { api, ApiError } from '../api.ts'
import type { Room } from '../types.ts'
import { errorLine, openDialog } from './dialog.ts'
import { createUserPicker } from './user-picker.ts'

/** Pick a person; opens the one direct room of the pair (created on first use). */
export function openDirectDialog(meId: number, opened: (room: Room) => void): void {
  const error = errorLine()
  const picker = createUserPicker({
    meId,
    mode: 'single',
    async pick(user) {
      try {
        const room = await api.directRoom(user.id)
        close()
        opened(room)
      } catch (failure) {
        error.textContent = failure instanceof ApiError ? failure.message : 'The conversation could not be opened.'
      }
    },
  })
  const { close } = openDialog('New message', picker.element, error)
  picker.focus()
}
