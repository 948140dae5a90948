import type { PgQueryConfig } from './protectable.js'

export type PgCallback = (error: Error | null | undefined, result?: unknown) => void

/** A pg Submittable (pg-cursor, pg-query-stream): it writes its own protocol messages. */
export interface PgSubmittable {
  submit(connection: unknown): void
  callback?: PgCallback
  handleReadyForQuery?(...args: unknown[]): void
  handleError?(error: Error, ...args: unknown[]): void
}

export type PgQuery =
  | { config: PgQueryConfig; submittable?: undefined }
  | { submittable: PgSubmittable; config?: undefined }

/**
 * pg's call forms, as `Client#query` reads them: (text | config | submittable, values?, callback?)
 * with values optional and the callback in either place. The config is copied, never mutated.
 */
export function parseQueryArgs(args: unknown[]): {
  query: PgQuery
  callback: PgCallback | undefined
} {
  const [first, second, third] = args
  if (first === null || first === undefined) {
    throw new TypeError('Client was passed a null or undefined query')
  }
  const callback = (typeof second === 'function' ? second : third) as PgCallback | undefined
  if (typeof (first as PgSubmittable).submit === 'function') {
    const submittable = first as PgSubmittable
    if (!submittable.callback && callback) submittable.callback = callback
    return { query: { submittable }, callback: undefined }
  }
  const config: PgQueryConfig =
    typeof first === 'string' ? { text: first } : { ...(first as PgQueryConfig) }
  if (Array.isArray(second)) config.values = second
  const own = (config as { callback?: PgCallback }).callback
  return { query: { config }, callback: callback ?? own }
}

/** Calls back like pg (callback given: undefined returned) or returns the promise. */
export function settle<T>(
  promise: Promise<T>,
  callback: PgCallback | undefined,
): Promise<T> | undefined {
  if (!callback) return promise
  promise.then(
    (result) => callback(undefined, result),
    (error: Error) => callback(error),
  )
  return undefined
}
