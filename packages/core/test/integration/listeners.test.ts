import { randomUUID } from 'node:crypto'
import { EventEmitter, once } from 'node:events'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { bindListeners, createSandbox, type Sandbox } from '../../src/index.js'
import { DIALECTS, type RawFacade, type TestDialect } from '../support/dialects.js'

/**
 * A listener test A registers on an emitter that outlives it runs where the emitter is fired:
 * in test B. Without binding, A's query lands in B's transaction; bound, it is refused.
 */
describe.each(DIALECTS.map((make) => [make().name, make] as const))(
  'listeners on %s',
  (_, make) => {
    let db: TestDialect
    let sandbox: Sandbox
    let pool: RawFacade
    let tagA: string
    let tagB: string
    const insert = (tag: string, name: string) =>
      pool.query(`insert into sandbox_items (tag, name) values (${db.param(1)}, ${db.param(2)})`, [
        tag,
        name,
      ])
    const names = async (tag: string) =>
      (
        await pool.query(`select name from sandbox_items where tag = ${db.param(1)} order by id`, [
          tag,
        ])
      ).map((row) => row.name)

    beforeAll(() => {
      db = make()
      sandbox = createSandbox({ driver: db.driver() })
      pool = db.facade(sandbox)
    })
    afterAll(async () => {
      await sandbox.close()
      await db.end()
    })
    beforeEach(() => {
      tagA = randomUUID().slice(0, 12)
      tagB = randomUUID().slice(0, 12)
    })
    afterEach(async () => {
      expect(await db.committedCount(tagA)).toBe(0)
      expect(await db.committedCount(tagB)).toBe(0)
    })

    /** Test A registers a listener that writes; test B fires the event and reads. */
    async function listenerOfAFiredInB(bus: EventEmitter) {
      const outcomes: unknown[] = []
      await sandbox.run(async () => {
        bus.on('order', () => {
          outcomes.push(
            insert(tagA, 'from A’s listener').then(
              () => 'ran',
              (error: unknown) => error,
            ),
          )
        })
      })
      const seenInB = await sandbox.run(async () => {
        bus.emit('order')
        await Promise.all(outcomes)
        return names(tagA)
      })
      return { seenInB, outcome: await outcomes[0] }
    }

    test('an unbound listener of an ended test runs in the test that fires it', async () => {
      const { seenInB, outcome } = await listenerOfAFiredInB(new EventEmitter())
      expect(outcome).toBe('ran')
      expect(seenInB).toEqual(['from A’s listener'])
    })

    test('with bindListeners, the listener of an ended test is refused, and runs nowhere', async () => {
      const bus = new EventEmitter()
      const unbind = bindListeners(sandbox, bus)
      try {
        const { seenInB, outcome } = await listenerOfAFiredInB(bus)
        expect(outcome).toMatchObject({ code: 'OWNER_CHECKED_IN' })
        expect(seenInB).toEqual([])
      } finally {
        unbind()
      }
    })

    test('a bound listener fired while its test runs uses that test’s connection', async () => {
      const bus = new EventEmitter()
      const unbind = bindListeners(sandbox, bus)
      try {
        await sandbox.run(async () => {
          bus.on('order', () => void insert(tagA, 'mine').then(() => bus.emit('done')))
          // Fired from a context with no owner, as a server or a timer made earlier would.
          const done = once(bus, 'done')
          setImmediate(() => sandbox.unboxedRun(() => bus.emit('order')))
          await done
          expect(await names(tagA)).toEqual(['mine'])
        })
      } finally {
        unbind()
      }
    })

    test('off() removes a bound listener by the function it was given', async () => {
      const bus = new EventEmitter()
      const unbind = bindListeners(sandbox, bus)
      try {
        await sandbox.run(async () => {
          const listener = () => {}
          bus.on('order', listener)
          expect(bus.listenerCount('order')).toBe(1)
          bus.off('order', listener)
          expect(bus.listenerCount('order')).toBe(0)
        })
      } finally {
        unbind()
      }
    })
  },
)
