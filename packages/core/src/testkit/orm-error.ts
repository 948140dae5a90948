import { expect } from 'vitest'

/**
 * An error as the ORM hands it to the app: its class and the fields it carries, matched as
 * `toMatchObject` matches (e.g. `{ code: 'P2002' }`, `{ cause: { code: '23505' } }`); or the very
 * error the app gave the ORM (`is`: Knex rejects with the reason given to `trx.rollback`).
 */
export type OrmError =
  | { class: abstract new (...args: never[]) => Error; fields?: Record<string, unknown> }
  | { is: unknown }

/** Fails unless `error` is the ORM's error `expected` describes. */
export function expectOrmError(error: unknown, expected: OrmError): void {
  if ('is' in expected) {
    expect(error).toBe(expected.is)
    return
  }
  expect(error).toBeInstanceOf(expected.class)
  if (expected.fields) expect(error).toMatchObject(expected.fields)
}

/** The rejection of a promise; fails if it resolved. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  const outcome = await promise.then(
    (value: unknown) => ({ resolved: true as const, value }),
    (error: unknown) => ({ resolved: false as const, error }),
  )
  if (outcome.resolved)
    expect.fail(`expected a rejection, but it resolved to ${String(outcome.value)}`)
  return outcome.error
}

/** What a cell declared it needs, or an error naming the cell and what to add. */
export function declared<T>(value: T | undefined, cell: string, what: string): T {
  if (value === undefined) {
    throw new Error(`${cell}: its capabilities need ${what}; add it to the cell (testkit README).`)
  }
  return value
}
