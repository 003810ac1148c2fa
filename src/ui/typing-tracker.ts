// How long "is typing" stays up after the last typing event: senders repeat it every ~3 s.
const TYPING_VISIBLE_MS = 5_000

/** Who is typing where, from the stream's `typing` events; entries expire by themselves. */
export function createTypingTracker(changed: (roomId: number) => void) {
  const rooms = new Map<number, Map<number, ReturnType<typeof setTimeout>>>()

  function stop(roomId: number, userId: number): void {
    const typists = rooms.get(roomId)
    const timer = typists?.get(userId)
    if (!typists || timer === undefined) return
    clearTimeout(timer)
    typists.delete(userId)
    if (typists.size === 0) rooms.delete(roomId)
    changed(roomId)
  }

  return {
    typing(roomId: number, userId: number): void {
      let typists = rooms.get(roomId)
      if (!typists) rooms.set(roomId, (typists = new Map()))
      const known = typists.has(userId)
      clearTimeout(typists.get(userId))
      typists.set(userId, setTimeout(() => stop(roomId, userId), TYPING_VISIBLE_MS))
      if (!known) changed(roomId)
    },
    /** Their message arrived: they are done typing it. */
    stop,
    typists(roomId: number): number[] {
      return [...(rooms.get(roomId)?.keys() ?? [])]
    },
    clearAll(): void {
      for (const typists of rooms.values()) for (const timer of typists.values()) clearTimeout(timer)
      rooms.clear()
    },
  }
}

/** "Ana is typing…", "Ana and Bo are typing…", "Several people are typing…". */
export function describeTyping(names: string[]): string {
  if (names.length === 0) return ''
  if (names.length === 1) return `${names[0]} is typing…`
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`
  return 'Several people are typing…'
}

export type TypingTracker = ReturnType<typeof createTypingTracker>
