import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { sandboxErrorIn } from '../ownership/errors.js'
import type { Owner } from '../ownership/owner.js'
import { type CommittedRows, committedRows } from './schema.js'

/** What a cell's ORM can do on the contract's tables, at the top level or inside a transaction. */
export interface ContractOps {
  insertItem(tag: string, name: string): Promise<void>
  /** Names of the items with `tag`, in insertion (id) order. */
  itemNames(tag: string): Promise<string[]>
  /** Inserts into a table whose `code` is unique: a duplicate rejects with the ORM's error. */
  insertUnique(code: string, tag: string): Promise<void>
  /** Runs fn in an ORM transaction (a nested one, when called on a transaction's ops). */
  transaction<T>(fn: (tx: ContractOps) => Promise<T>): Promise<T>
  /**
   * PostgreSQL cells: a setting for the current transaction only, set as apps do it for
   * row-level security (`set_config(name, value, true)` through the ORM's raw SQL), and read.
   */
  localSetting?: {
    set(name: string, value: string): Promise<void>
    read(name: string): Promise<string | null>
  }
}

/** The part of a sandbox the suite drives (any driver's sandbox has it). */
export interface ContractSandbox {
  run<T>(fn: (owner: Owner) => T | Promise<T>): Promise<T>
  bind<A extends unknown[], R>(owner: Owner, fn: (...args: A) => R): (...args: A) => R
  close(): Promise<void>
}

/** One ORM × database cell, set up as its README tells users to. */
export interface ContractCell {
  /** e.g. 'drizzle × postgres' */
  name: string
  dialect: 'postgres' | 'mysql'
  /** The server's URL, to read from outside the sandbox what was really committed. */
  url: string
  setup(): Promise<{ sandbox: ContractSandbox; orm: ContractOps; close?(): Promise<void> }>
}

/**
 * The behavioural suite every ORM × database cell runs (one suite, many cells: Kysely's
 * DIALECTS loop). Each test works on its own tag; after each test nothing may be committed.
 */
export function defineContractSuite(cell: ContractCell): void {
  describe(`sandbox contract: ${cell.name}`, () => {
    let sandbox: ContractSandbox
    let orm: ContractOps
    let closeOrm: (() => Promise<void>) | undefined
    let committed: CommittedRows
    const tags: string[] = []
    const newTag = () => {
      const tag = randomUUID().slice(0, 12)
      tags.push(tag)
      return tag
    }

    beforeAll(async () => {
      committed = committedRows(cell.dialect, cell.url)
      ;({ sandbox, orm, close: closeOrm } = await cell.setup())
    })
    afterAll(async () => {
      await closeOrm?.()
      await sandbox.close()
      await committed.end()
    })
    afterEach(async () => {
      for (const tag of tags.splice(0)) expect(await committed.count(tag)).toBe(0)
    })

    test('queries route to the owner’s connection; its checkin rolls them back', async () => {
      const tag = newTag()
      await sandbox.run(async () => {
        await orm.insertItem(tag, 'a')
        await orm.insertItem(tag, 'b')
        expect(await orm.itemNames(tag)).toEqual(['a', 'b'])
        expect(await committed.count(tag)).toBe(0)
      })
    })

    test('concurrent owners see only their own rows', async () => {
      const tag = newTag()
      const seen = await Promise.all(
        [1, 2, 3, 4].map((n) =>
          sandbox.run(async () => {
            for (let i = 0; i < n; i++) await orm.insertItem(tag, `owner ${n}`)
            await sleep(10)
            return orm.itemNames(tag)
          }),
        ),
      )
      expect(seen.map((names) => names.length)).toEqual([1, 2, 3, 4])
      expect(seen.every((names, i) => names.every((name) => name === `owner ${i + 1}`))).toBe(true)
    })

    test('Promise.all fan-out inside one owner works', async () => {
      const tag = newTag()
      await sandbox.run(async () => {
        await Promise.all(['a', 'b', 'c', 'd', 'e'].map((name) => orm.insertItem(tag, name)))
        expect((await orm.itemNames(tag)).sort()).toEqual(['a', 'b', 'c', 'd', 'e'])
      })
    })

    test('an app transaction commits into the owner’s transaction; a nested one rolls back alone', async () => {
      const tag = newTag()
      await sandbox.run(async () => {
        await orm.transaction(async (tx) => {
          await tx.insertItem(tag, 'outer')
          await tx
            .transaction(async (inner) => {
              await inner.insertItem(tag, 'inner')
              throw new Error('inner fails')
            })
            .catch(() => {})
          await tx.insertItem(tag, 'outer again')
        })
        expect(await orm.itemNames(tag)).toEqual(['outer', 'outer again'])
      })
    })

    test('a throwing transaction callback rolls back the app transaction only', async () => {
      const tag = newTag()
      await sandbox.run(async () => {
        await orm.insertItem(tag, 'before')
        const boom = new Error('callback failed')
        await expect(
          orm.transaction(async (tx) => {
            await tx.insertItem(tag, 'in tx')
            throw boom
          }),
        ).rejects.toBe(boom)
        expect(await orm.itemNames(tag)).toEqual(['before'])
      })
    })

    test('a failed query (unique violation) does not poison later queries', async () => {
      const tag = newTag()
      await sandbox.run(async () => {
        await orm.insertItem(tag, 'first')
        await orm.insertUnique(`${tag}-code`, tag)
        await expect(orm.insertUnique(`${tag}-code`, tag)).rejects.toBeDefined()
        await orm.insertItem(tag, 'after')
        expect(await orm.itemNames(tag)).toEqual(['first', 'after'])
      })
    })

    test('racing app transactions on one owner do not interleave', async () => {
      const tag = newTag()
      await sandbox.run(async () => {
        const racer = (name: string, fail: boolean) =>
          orm
            .transaction(async (tx) => {
              await tx.insertItem(tag, `${name} 1`)
              await sleep(5)
              await tx.insertItem(tag, `${name} 2`)
              if (fail) throw new Error(`${name} fails`)
            })
            .catch(() => {})
        await Promise.all([racer('a', false), racer('b', true), racer('c', false)])
        const names = await orm.itemNames(tag)
        expect(names.sort()).toEqual(['a 1', 'a 2', 'c 1', 'c 2'])
      })
    })

    if (cell.dialect === 'postgres') {
      test('a setting for the app transaction only (set_config(…, true)) ends with its COMMIT', async () => {
        const setting = (ops: ContractOps) => {
          if (ops.localSetting) return ops.localSetting
          throw new Error(`${cell.name}: PostgreSQL cells implement ContractOps.localSetting`)
        }
        const tag = newTag()
        await sandbox.run(async () => {
          await orm.transaction(async (tx) => {
            await setting(tx).set('sqlsandbox.tenant', tag)
            expect(await setting(tx).read('sqlsandbox.tenant')).toBe(tag)
          })
          // What production reads after the COMMIT: a custom setting once set is '' then.
          expect(await setting(orm).read('sqlsandbox.tenant')).toBe('')
        })
      })
    }

    test('a query without an owner fails with the ownership error', async () => {
      const tag = newTag()
      const error = await orm.itemNames(tag).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(sandboxErrorIn(error)?.code).toBe('NO_OWNER')
    })

    test('a late query, after its owner checked in, is refused and nothing lands', async () => {
      const tag = newTag()
      let late: (() => Promise<void>) | undefined
      await sandbox.run(async (owner) => {
        late = sandbox.bind(owner, () => orm.insertItem(tag, 'late'))
      })
      const error = await late!().then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(sandboxErrorIn(error)?.code).toBe('OWNER_CHECKED_IN')
      await sandbox.run(async () => expect(await orm.itemNames(tag)).toEqual([]))
    })
  })
}
