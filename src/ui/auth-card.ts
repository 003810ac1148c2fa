import { h, type Child } from './dom.ts'

/** The card the sign-in page and the link pages (join, reset) are drawn on. */
export const authCard = (...children: Child[]): HTMLElement =>
  h('main', { class: 'auth' }, h('div', { class: 'auth__card' }, h('div', { class: 'auth__brand', 'aria-hidden': 'true' }, 'C'), ...children))

/** A labelled input with its hint under it; `groupId` names the group when the page hides it. */
export const authField = (id: string, label: string, input: HTMLInputElement, hint?: string, groupId?: string): HTMLDivElement =>
  h('div', { class: 'field-group', id: groupId }, h('label', { class: 'field', for: id }, label), input, hint ? h('small', { class: 'field-hint' }, hint) : null)
