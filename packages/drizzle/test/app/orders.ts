import { eq } from 'drizzle-orm'
import { type Db, db } from './db.js'
import { items } from './schema.js'

/** App code over a `db`: the repository style (takes its db) and the module-level instance. */
export function ordersRepo(db: Db) {
  return {
    place: (tag: string, names: string[]) =>
      db.transaction(async (tx) => {
        for (const name of names) await tx.insert(items).values({ tag, name })
      }),
    placeMany: (tag: string, names: string[]) =>
      Promise.all(names.map((name) => db.insert(items).values({ tag, name }))),
    namesOf: async (tag: string) =>
      (await db.query.items.findMany({ where: eq(items.tag, tag), orderBy: items.id })).map(
        (item) => item.name,
      ),
  }
}

export const orders = ordersRepo(db)
