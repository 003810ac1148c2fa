/** How the account and administration views word what the server said. */
import { ApiError } from './api.ts'

/** The message of a refused request, or `fallback` when the server could not say. */
export const failureText = (failure: unknown, fallback: string): string =>
  failure instanceof ApiError && failure.status !== 0 ? failure.message : fallback

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })

/** A time of the API, or `never` for null. */
export const formatWhen = (iso: string | null, never = 'never'): string => (iso ? dateTime.format(new Date(iso)) : never)
