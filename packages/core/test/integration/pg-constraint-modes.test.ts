import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'vitest'
import { pgDriver, sandboxedPgPool } from '../../src/dialects/postgres/index.js'
import { createSandbox } from '../../src/index.js'
import { PG_URL } from '../support/databases.js'

// Deferred constraints are checked where production's COMMIT checks them, with the modes a
// transaction has there. `sandbox_rechecked` has a deferred constraint trigger that counts each
// check in a sequence (global-setup.ts): no rollback takes a count back, so a check run again
// and again shows. `sandbox_children.parent_id` is DEFERRABLE INITIALLY DEFERRED.
describe('PostgreSQL constraint modes', () => {
  const sandbox = createSandbox({ driver: pgDriver(PG_URL), poolSize: 1 })
  const pool = sandboxedPgPool(sandbox)
  const raw = new pg.Pool({ connectionString: PG_URL, max: 1 })
  let tag: string
  beforeEach(() => {
    tag = randomUUID().slice(0, 12)
  })
  afterEach(async () => {
    const { rows } = await raw.query(
      `select (select count(*) from sandbox_children where tag = $1)::int
            + (select count(*) from sandbox_parents where id like $2)::int
            + (select count(*) from sandbox_rechecked where tag = $1)::int as n`,
      [tag, `${tag}%`],
    )
    expect(rows[0].n).toBe(0)
  })
  afterAll(async () => {
    await sandbox.close()
    await raw.end()
  })

  /** Checks counted so far; only this file inserts into sandbox_rechecked. */
  const checksSoFar = async (query = (sql: string) => pool.query(sql)) => {
    const { rows } = await query('select last_value, is_called from sandbox_recheck_count')
    return rows[0].is_called ? Number(rows[0].last_value) : 0
  }
  const child = (parent: string, on: Pick<pg.Pool, 'query'> = pool) =>
    on.query('insert into sandbox_children (tag, parent_id) values ($1, $2)', [tag, parent])
  const parent = (id: string, on: Pick<pg.Pool, 'query'> = pool) =>
    on.query('insert into sandbox_parents (id) values ($1)', [id])

  test('each write outside an app transaction checks its own rows once: earlier rows are not checked again', async () => {
    await sandbox.run(async () => {
      const before = await checksSoFar()
      for (let i = 0; i < 30; i++) {
        await pool.query('insert into sandbox_rechecked (tag) values ($1)', [tag])
      }
      // A throwaway savepoint rolled back after each check made this 30 + 29 + … + 1 = 465.
      expect((await checksSoFar()) - before).toBe(30)
    })
  })

  test('the same through sandbox.query', async () => {
    await sandbox.run(async () => {
      const query = (sql: string) => sandbox.query(sql)
      const before = await checksSoFar(query)
      for (let i = 0; i < 10; i++) {
        await sandbox.query('insert into sandbox_rechecked (tag) values ($1)', [tag])
      }
      expect((await checksSoFar(query)) - before).toBe(10)
    })
  })

  test('in an app transaction the checks run at its COMMIT, once per row', async () => {
    await sandbox.run(async () => {
      const client = await pool.connect()
      try {
        const before = await checksSoFar()
        await client.query('BEGIN')
        for (let i = 0; i < 5; i++) {
          await client.query('insert into sandbox_rechecked (tag) values ($1)', [tag])
        }
        expect((await checksSoFar((sql) => client.query(sql))) - before).toBe(0)
        await client.query('COMMIT')
        expect((await checksSoFar()) - before).toBe(5)
      } finally {
        client.release()
      }
    })
  })

  test('COMMIT AND CHAIN begins the next app transaction with the declared modes', async () => {
    await sandbox.run(async () => {
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        await client.query('COMMIT AND CHAIN')
        await child(`${tag}-p`, client)
        await parent(`${tag}-p`, client)
        await client.query('COMMIT')
      } finally {
        client.release()
      }
      expect(
        (await pool.query('select tag from sandbox_children where tag = $1', [tag])).rows,
      ).toHaveLength(1)
    })
  })

  test('COMMIT AND CHAIN of a failed app transaction after DDL: the modes are read once the rollback ran, as production chains', async () => {
    await sandbox.run(async () => {
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        // DDL in the test makes the cached modes old: the chain has to read them again.
        await client.query('create temp table sandbox_chain_ddl (n int) on commit drop')
        await expect(client.query('select * from sandbox_no_such_table')).rejects.toMatchObject({
          code: '42P01',
        })
        // Production: the failed transaction is rolled back and a new one begins.
        await client.query('COMMIT AND CHAIN')
        await parent(`${tag}-chained`, client)
        const { rows } = await client.query(
          'select count(*)::int as n from sandbox_parents where id = $1',
          [`${tag}-chained`],
        )
        expect(rows[0].n).toBe(1)
        await client.query('ROLLBACK')
      } finally {
        client.release()
      }
    })
  })

  test('a parameterless script outside an app transaction is one block with the declared modes: checked at its end', async () => {
    await sandbox.run(async () => {
      await pool.query(
        `insert into sandbox_children (tag, parent_id) values ('${tag}', '${tag}-p');
         insert into sandbox_parents (id) values ('${tag}-p')`,
      )
      await expect(
        pool.query(
          `insert into sandbox_parents (id) values ('${tag}-q');
           insert into sandbox_children (tag, parent_id) values ('${tag}', '${tag}-none')`,
        ),
      ).rejects.toMatchObject({ code: '23503' })
      // All of the failed script is undone, and the checks are immediate again after it.
      expect(
        (await pool.query('select id from sandbox_parents where id = $1', [`${tag}-q`])).rows,
      ).toEqual([])
      await expect(child(`${tag}-none`)).rejects.toMatchObject({ code: '23503' })
    })
  })

  test('a deferrable constraint created in the test after the modes were read is deferred in the next app transaction', async () => {
    const id = tag.replaceAll('-', '_')
    await sandbox.run(async () => {
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        await client.query('COMMIT') // the modes are read (and cached) here
        // Its own parent table: no lock on sandbox_parents for other files' tests to wait for.
        await pool.query(
          `create table sandbox_ddl_parent_${id} (id text primary key);
           create table sandbox_ddl_${id} (parent_id text references sandbox_ddl_parent_${id} (id) deferrable initially deferred)`,
        )
        await client.query('BEGIN')
        await client.query(`insert into sandbox_ddl_${id} values ('p')`)
        await client.query(`insert into sandbox_ddl_parent_${id} values ('p')`)
        await client.query('COMMIT')
      } finally {
        client.release()
      }
    })
    // The table went with the test: the next app transaction begins as usual.
    await sandbox.run(async () => {
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        await child(`${tag}-p2`, client)
        await expect(client.query('COMMIT')).rejects.toMatchObject({ code: '23503' })
      } finally {
        client.release()
      }
    })
  })

  test('a deferrable constraint dropped by another connection: the next app BEGIN reads the modes again instead of failing', async () => {
    const table = `sandbox_dropped_${tag.replaceAll('-', '_')}`
    await raw.query(
      `create table ${table}_parent (id text primary key);
       create table ${table} (parent_id text references ${table}_parent (id) deferrable initially deferred)`,
    )
    // A connection of its own, opened after the table: its first app BEGIN reads the table's constraint.
    const fresh = createSandbox({ driver: pgDriver(PG_URL), poolSize: 1 })
    const freshPool = sandboxedPgPool(fresh)
    try {
      await fresh.run(async () => {
        const client = await freshPool.connect()
        try {
          await client.query('BEGIN')
          await client.query('COMMIT')
          await fresh.unboxedRun(() => raw.query(`drop table ${table}, ${table}_parent`))
          // A statement that locks a table takes in the drop (the server's catalog cache):
          // without one the server would still find the dropped name.
          await parent(`${tag}-before`, client)
          await client.query('BEGIN')
          await child(`${tag}-p`, client)
          await parent(`${tag}-p`, client)
          await client.query('COMMIT')
        } finally {
          client.release()
        }
      })
    } finally {
      await fresh.close()
      await raw.query(`drop table if exists ${table}, ${table}_parent`)
    }
  })
})
