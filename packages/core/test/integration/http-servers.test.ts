import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createSandbox } from '../../src/index.js'
import { ownerHeaders, stampOutgoingRequests } from '../../src/integrations/http.js'
import { useSandbox } from '../../src/integrations/vitest.js'
import { DIALECTS } from '../support/dialects.js'
import { CLIENTS, FRAMEWORKS, SEND, type Served, serveApp } from '../support/http-apps.js'

/**
 * A server started in beforeAll, outside every test, on each framework, called by each client
 * with no header added by hand: `stampOutgoingRequests(sandbox)` signs the test's owner onto its
 * requests, the framework's middleware runs the request as the owner's allowed context.
 */
describe.each(DIALECTS.map((make) => [make().name, make] as const))('HTTP on %s', (_, make) => {
  const db = make()
  const sandbox = createSandbox({ driver: db.driver(), poolSize: 6 })
  const pool = db.facade(sandbox)
  const servers = new Map<string, Served>()
  const tag = randomUUID().slice(0, 12)

  beforeAll(async () => {
    for (const framework of FRAMEWORKS) {
      servers.set(framework, await serveApp(framework, sandbox, pool, db.param))
    }
    return stampOutgoingRequests(sandbox)
  })
  afterAll(async () => {
    for (const served of servers.values()) await served.close()
    // Every row every request wrote was in a test's transaction: nothing was committed.
    expect(await db.committedCount(tag)).toBe(0)
    await sandbox.close()
    await db.end()
  })
  useSandbox(sandbox)

  const seenByTest = async (forTag: string) =>
    Number(Object.values((await pool.query(db.countItems, [forTag]))[0]!)[0])

  describe.each(FRAMEWORKS)('%s', (framework) => {
    const url = (path: string) => `${servers.get(framework)!.url}${path}`

    describe.each(CLIENTS)('called with %s', (client) => {
      const send = SEND[client]

      test('the request’s queries run in the test’s transaction', async () => {
        const own = randomUUID().slice(0, 12)
        expect(await send('POST', url('/items'), { tag: own, name: 'tea' })).toEqual({
          status: 201,
          body: { count: 1 },
        })
        expect(await seenByTest(own)).toBe(1)
        await pool.query(db.insertItem, [own, 'cake'])
        expect(await send('GET', url(`/items?tag=${own}`))).toEqual({
          status: 200,
          body: { names: ['tea', 'cake'] },
        })
        expect(await db.committedCount(own)).toBe(0)
      })

      describe.concurrent('concurrent tests', () => {
        test.each([1, 2, 3])('test %i sees only the rows its own requests wrote', async (n) => {
          let last: unknown
          for (let i = 1; i <= n; i++) {
            last = (await send('POST', url('/items'), { tag, name: `${client}-${n}` })).body
          }
          expect(last).toEqual({ count: n })
          expect(await seenByTest(tag)).toBe(n)
        })
      })
    })

    test('an app transaction is a savepoint: its rollback keeps the test’s own rows', async () => {
      const own = randomUUID().slice(0, 12)
      await pool.query(db.insertItem, [own, 'before'])
      const order = SEND.fetch('POST', url('/orders'), {
        tag: own,
        names: ['a', 'b'],
        fail: true,
        pauseMs: 50,
      })
      // Sent while the app's transaction is open: it waits for it instead of landing inside it.
      await new Promise((resolve) => setTimeout(resolve, 20))
      await pool.query(db.insertItem, [own, 'during'])
      expect((await order).status).toBe(409)
      expect((await SEND.fetch('GET', url(`/items?tag=${own}`))).body).toEqual({
        names: ['before', 'during'],
      })
      const placed = await SEND.fetch('POST', url('/orders'), { tag: own, names: ['c', 'd'] })
      expect(placed).toEqual({ status: 201, body: { placed: 2 } })
      expect(await seenByTest(own)).toBe(4)
      expect(await db.committedCount(own)).toBe(0)
    })

    test('without a token the request has no owner: its queries fail NO_OWNER', async () => {
      const response = await fetch(url('/items?tag=x'), { headers: { 'x-sqlsandbox-owner': '' } })
      expect(await response.json()).toEqual({ code: 'NO_OWNER' })
    })

    test('a forged token is answered 403 before the handler runs', async () => {
      const served = servers.get(framework)!
      const handled = served.handled
      const token = ownerHeaders(sandbox)['x-sqlsandbox-owner']!
      const forged = `${token.slice(0, -4)}${token.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`
      const answer = await SEND.fetch(
        'POST',
        url('/items'),
        { tag, name: 'x' },
        {
          'x-sqlsandbox-owner': forged,
        },
      )
      expect(answer).toMatchObject({
        status: 403,
        body: { reason: 'forged-token', code: 'OWNER_TOKEN_REFUSED' },
      })
      expect(served.handled).toBe(handled)
    })

    test('an expired token is answered 403', async () => {
      const headers = ownerHeaders(sandbox, { ttlMs: 1 })
      await new Promise((resolve) => setTimeout(resolve, 5))
      const answer = await SEND.fetch('GET', url('/items?tag=x'), undefined, headers)
      expect(answer).toMatchObject({ status: 403, body: { reason: 'expired-token' } })
      expect((answer.body as { message: string }).message).toMatch(/expired \d+ms ago/)
    })

    test('a bare owner id (unsigned) is answered 403 and names the one-line fix', async () => {
      const id = sandbox.currentOwner()!.id
      const answer = await SEND.fetch('GET', url('/items?tag=x'), undefined, {
        'x-sqlsandbox-owner': id,
      })
      expect(answer).toMatchObject({ status: 403, body: { reason: 'unsigned-owner-id' } })
      expect((answer.body as { message: string }).message).toContain(
        'beforeAll(() => stampOutgoingRequests(sandbox))',
      )
    })

    test('a request sent after its owner ended is answered 409 before the handler runs', async () => {
      const served = servers.get(framework)!
      const handled = served.handled
      let sendLate!: Promise<unknown>
      let sent!: () => void
      const timerFired = new Promise<void>((resolve) => {
        sent = resolve
      })
      await sandbox.run(async () => {
        // A timer the nested owner started and did not wait for: it fires after its checkin.
        setTimeout(() => {
          sendLate = SEND.fetch('POST', url('/items'), { tag, name: 'late' })
          sent()
        }, 30)
      })
      await timerFired
      const answer = await sendLate
      expect(answer).toMatchObject({
        status: 409,
        body: { reason: 'owner-ended', code: 'OWNER_CHECKED_IN' },
      })
      expect(served.handled).toBe(handled)
    })
  })
})
