/** Inline SVG icons, built as elements (no markup strings, no icon font to download). */

const SVG = 'http://www.w3.org/2000/svg'

function icon(...paths: string[]): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg')
  svg.setAttribute('viewBox', '0 0 24 24')
  svg.setAttribute('aria-hidden', 'true')
  svg.setAttribute('class', 'icon')
  for (const d of paths) {
    const path = document.createElementNS(SVG, 'path')
    path.setAttribute('d', d)
    svg.appendChild(path)
  }
  return svg
}

export const sendIcon = () => icon('M4 12 20 4l-6 16-3-7-7-1Z', 'm11 13 9-9')
export const backIcon = () => icon('M15 5l-7 7 7 7')
export const plusIcon = () => icon('M12 5v14', 'M5 12h14')
export const hashIcon = () => icon('M9 4 7 20', 'M17 4l-2 16', 'M4 9h16', 'M3 15h16')
export const compassIcon = () => icon('M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18Z', 'm15.5 8.5-2 5-5 2 2-5 5-2Z')
export const messageIcon = () => icon('M4 5h16v11H9l-5 4V5Z')
export const logoutIcon = () => icon('M15 4h4v16h-4', 'M10 8l-4 4 4 4', 'M6 12h10')
export const closeIcon = () => icon('M6 6l12 12', 'M18 6 6 18')
export const lockIcon = () => icon('M6 11h12v9H6z', 'M8 11V8a4 4 0 0 1 8 0v3')
export const leaveIcon = () => icon('M9 4H5v16h4', 'M14 8l4 4-4 4', 'M18 12H8')
export const smileIcon = () => icon('M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18Z', 'M8.5 14.5a4.5 4.5 0 0 0 7 0', 'M9 9.5h.01', 'M15 9.5h.01')
export const replyIcon = () => icon('M10 8 5 12l5 4', 'M5 12h9a5 5 0 0 1 5 5v1')
export function moreIcon(): SVGSVGElement {
  const svg = icon('M5 12h.01', 'M12 12h.01', 'M19 12h.01')
  // Three dots are drawn by the line caps alone: a thicker line makes them big enough to see.
  svg.classList.add('icon--dots')
  return svg
}
export const checkIcon = () => icon('m5 12 4.5 4.5L19 7')
export const bellIcon = () => icon('M6 16V11a6 6 0 0 1 12 0v5l1.5 2h-15L6 16Z', 'M10 20.5a2 2 0 0 0 4 0')
export const editIcon = () => icon('M4 20h4L19 9l-4-4L4 16v4Z', 'm13.5 6.5 4 4')
export const trashIcon = () => icon('M4 7h16', 'M9 7V4h6v3', 'M6 7l1 13h10l1-13')
export const paperclipIcon = () => icon('m20 11.5-8.4 8.4a5 5 0 0 1-7.1-7.1l8.5-8.5a3.3 3.3 0 0 1 4.7 4.7l-8.5 8.5a1.7 1.7 0 0 1-2.4-2.4l7.8-7.8')
export const fileIcon = () => icon('M6 3h8l4 4v14H6z', 'M14 3v4h4')
export const searchIcon = () => icon('M11 4a7 7 0 1 0 0 14 7 7 0 0 0 0-14Z', 'm20 20-4-4')
export const downloadIcon = () => icon('M12 4v11', 'm7 11 5 5 5-5', 'M5 20h14')
export const userIcon = () => icon('M12 4a4 4 0 1 0 0 8 4 4 0 0 0 0-8Z', 'M4.5 20a7.5 7.5 0 0 1 15 0')
export const shieldIcon = () => icon('M12 3 5 6v5c0 4.5 3 8.3 7 10 4-1.7 7-5.5 7-10V6l-7-3Z', 'm9 12 2 2 4-4')
