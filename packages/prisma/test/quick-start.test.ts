// The README's quick start, as it is printed there (imports adapted to this repository).
import { createSandbox } from '@sqlsandbox/core'
import { pgDriver } from '@sqlsandbox/core/pg'
import { afterAll, expect, test } from 'vitest'
import { clientPerOwner, sandboxedPrismaAdapter } from '../src/index.js'
import { PrismaClient } from './generated/postgres/client.js'
import { committedRows, DATABASES, PG_URL } from './support/databases.js'

const sandbox = createSandbox({ driver: pgDriver(PG_URL) })
// One client for every test; each query runs on its own test's (owner's) connection.
const prisma = clientPerOwner(
  sandbox,
  () => new PrismaClient({ adapter: sandboxedPrismaAdapter(sandbox) }),
)

test.concurrent('places an order', () =>
  sandbox.run(async () => {
    await prisma.item.create({ data: { tag: 'order', name: 'tea' } })
    expect(await prisma.item.count({ where: { tag: 'order' } })).toBe(1)
  }))

test.concurrent('places another order, alongside', () =>
  sandbox.run(async () => {
    await prisma.item.create({ data: { tag: 'order', name: 'coffee' } })
    expect(await prisma.item.count({ where: { tag: 'order' } })).toBe(1)
  }))

afterAll(async () => {
  await prisma.$disconnect()
  await sandbox.close()
  const committed = committedRows(DATABASES[0]!)
  expect(await committed.count('order')).toBe(0)
  await committed.end()
})
