import { InitError } from './init-error.js'
import type { Orm } from './init-options.js'

/** The package an app depends on when it uses each ORM. */
const ORM_PACKAGES: Record<Exclude<Orm, 'none'>, string> = {
  drizzle: 'drizzle-orm',
  knex: 'knex',
  prisma: '@prisma/client',
}

/**
 * The app's ORM: the one its package.json depends on, or 'none' (the pg / mysql2 pool facade).
 * Several: the user chooses with --orm, since the test setup differs for each.
 */
export function detectOrm(dependencies: ReadonlySet<string>): Orm {
  const found = (Object.keys(ORM_PACKAGES) as Exclude<Orm, 'none'>[]).filter((orm) =>
    dependencies.has(ORM_PACKAGES[orm]),
  )
  if (found.length <= 1) return found[0] ?? 'none'
  const names = found.map((orm) => `${orm} (${ORM_PACKAGES[orm]})`).join(', ')
  throw new InitError(
    'SEVERAL_ORMS',
    `package.json depends on several ORMs: ${names}. Choose the one your tests go through: --orm ${found.join(' or --orm ')}.`,
  )
}
