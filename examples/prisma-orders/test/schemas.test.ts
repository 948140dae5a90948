import { readFileSync } from 'node:fs'
import { expect, test } from 'vitest'

/** A schema's models and their mapping, without its comments, generator and datasource blocks. */
function models(provider: 'postgres' | 'mysql'): string {
  return readFileSync(new URL(`../prisma/schema.${provider}.prisma`, import.meta.url), 'utf8')
    .replace(/^\s*\/\/.*$/gm, '')
    .replace(/^(generator|datasource) \w+ \{[^}]*\}/gm, '')
    .trim()
}

// A Prisma client is generated for one provider, so the app has a schema per database: they
// must describe the same models, or the app would behave differently on each.
test('the MariaDB/MySQL schema has exactly the PostgreSQL schema’s models', () => {
  expect(models('mysql')).toContain('model OrderLine')
  expect(models('mysql')).toBe(models('postgres'))
})
