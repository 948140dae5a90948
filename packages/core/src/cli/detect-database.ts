import { InitError } from './init-error.js'
import type { Database } from './init-options.js'

/** Packages that tell which database an app talks to; the sandbox itself needs pg or mysql2. */
const DATABASE_PACKAGES: Record<Database, readonly string[]> = {
  postgres: ['pg', '@prisma/adapter-pg'],
  mysql: ['mysql2', '@prisma/adapter-mariadb', 'mariadb'],
}

/**
 * The app's database, from its drivers; when it has none, from the Prisma schema's provider
 * (`schemaDatabase`). Both databases: the user chooses with --database.
 */
export function detectDatabase(
  dependencies: ReadonlySet<string>,
  schemaDatabase: Database | undefined,
): Database {
  const found = (Object.keys(DATABASE_PACKAGES) as Database[]).filter((database) =>
    DATABASE_PACKAGES[database].some((name) => dependencies.has(name)),
  )
  if (found.length === 1) return found[0]!
  if (found.length > 1) {
    throw new InitError(
      'SEVERAL_DATABASES',
      'package.json depends on drivers of both PostgreSQL (pg) and MySQL/MariaDB (mysql2): choose the test database with --database postgres or --database mysql.',
    )
  }
  if (schemaDatabase) return schemaDatabase
  throw new InitError(
    'NO_DATABASE',
    "package.json depends on neither pg nor mysql2, so init cannot tell the database: install your database's driver (npm install pg, or npm install mysql2 for MySQL/MariaDB), or pass --database postgres|mysql.",
  )
}

/** The driver the sandbox connects with, for the database. */
export function driverPackage(database: Database): string {
  return database === 'postgres' ? 'pg' : 'mysql2'
}
