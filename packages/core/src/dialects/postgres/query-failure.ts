import type pg from 'pg'

/** The error, in the shape the call expects: a Submittable's, a callback's, or a promise's. */
export function failQuery(client: pg.Client, args: unknown[], error: Error): unknown {
  const [first] = args
  const submittable = first as { submit?: unknown; handleError?: (e: Error, c: unknown) => void }
  if (typeof submittable?.submit === 'function') {
    process.nextTick(() =>
      submittable.handleError?.(error, (client as { connection?: unknown }).connection),
    )
    return first
  }
  const last = args[args.length - 1]
  const callback =
    typeof last === 'function'
      ? last
      : typeof (first as { callback?: unknown })?.callback === 'function'
        ? (first as { callback: (e: Error) => void }).callback
        : undefined
  if (callback) {
    process.nextTick(callback as (e: Error) => void, error)
    return undefined
  }
  return Promise.reject(error)
}
