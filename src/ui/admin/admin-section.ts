import { h, type Child } from '../dom.ts'

/** A section of the Administration page, named by its heading (a region a screen reader lists), with its intro when it has one. */
export const adminSection = (id: string, title: string, intro: string | null, ...parts: Child[]): HTMLElement =>
  h('section', { class: 'admin-section', 'aria-labelledby': id }, h('h2', { id }, title), intro ? h('p', { class: 'admin-section__intro' }, intro) : null, ...parts)
