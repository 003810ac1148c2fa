import { api, ApiError, messagesPath, prefetch, ROOMS, SESSION } from './api.ts'
import { createAuthView } from './auth-view.ts'
import { startChat } from './chat-app.ts'
import { byId, h } from './dom.ts'
import { createLinkView, linkPage } from './join-reset-view.ts'
import { startServiceWorker } from './push-settings.ts'
import type { User } from './types.ts'

const root = byId('app')

function showSignIn(): void {
  root.replaceChildren(createAuthView(showChat))
}

function showChat(user: User): void {
  // Past a join or reset link, the chat lives at `/` (the link's token is used up).
  if (location.pathname !== '/') history.replaceState(null, '', '/')
  startChat(root, user, showSignIn)
}

/** The session cookie decides where the page starts: the chat, or the sign-in form. */
async function boot(): Promise<void> {
  // A returning visitor needs all three; without a session the other two just answer 401.
  prefetch(SESSION)
  prefetch(ROOMS)
  const linked = /^#\/rooms\/(\d+)$/.exec(location.hash)
  if (linked) prefetch(messagesPath(Number(linked[1])))
  try {
    showChat((await api.me()).user)
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return showSignIn()
    const retry = h('button', { type: 'button', class: 'button', onclick: () => void boot() }, 'Try again')
    root.replaceChildren(
      h('main', { class: 'auth' }, h('div', { class: 'auth__card' }, h('p', { role: 'alert' }, 'The chat server cannot be reached right now.'), retry)),
    )
  }
}

startServiceWorker((roomId) => (location.hash = `#/rooms/${roomId}`))
const link = linkPage()
if (link) root.replaceChildren(createLinkView(link.page, link.token, showChat))
else void boot()
