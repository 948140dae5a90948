import diagnostics from 'node:diagnostics_channel'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest'
import { createSandbox, isOwnershipError, type Owner } from '../../src/index.js'
import {
  expressOwnerMiddleware,
  fastifyOwnerHook,
  honoOwnerMiddleware,
  OWNER_HEADER,
  ownerHeaders,
  ownerRequestListener,
  withRequestOwner,
} from '../../src/integrations/http.js'
import { OwnerTokens } from '../../src/integrations/owner-tokens.js'
import { fakeDriver } from '../support/fake-driver.js'

const sandbox = createSandbox({ driver: fakeDriver().driver })
const other = createSandbox({ driver: fakeDriver().driver })
afterAll(async () => {
  await sandbox.close()
  await other.close()
})

const tokenOf = (headers: Record<string, string>) => headers[OWNER_HEADER]!

describe('owner tokens', () => {
  test('a token names its live owner', async () => {
    const tokens = new OwnerTokens()
    await sandbox.run((owner) => {
      expect(tokens.verify(tokens.mint(owner))).toEqual({ kind: 'owner', owner })
    })
  })

  test('a token whose owner id was swapped for another owner’s is forged', async () => {
    const tokens = new OwnerTokens()
    let first!: Owner
    await sandbox.run(async (a) => {
      first = a
      await sandbox.run((b) => {
        const swapped = tokens.mint(b).replace(b.id, first.id)
        expect(tokens.verify(swapped)).toEqual({ kind: 'forged' })
      })
    })
  })

  test('a token signed by another sandbox names that sandbox’s key, not a forgery', async () => {
    const [mine, theirs] = [new OwnerTokens(), new OwnerTokens()]
    await sandbox.run((owner) => {
      expect(mine.verify(theirs.mint(owner))).toEqual({
        kind: 'other-sandbox',
        keyId: theirs.keyId,
      })
    })
  })

  test('a token is refused after its time to live', async () => {
    const tokens = new OwnerTokens()
    await sandbox.run((owner) => {
      const token = tokens.mint(owner, 1_000, 0)
      expect(tokens.verify(token, 1_000).kind).toBe('owner')
      expect(tokens.verify(token, 1_250)).toEqual({
        kind: 'expired',
        expiredMsAgo: 250,
        ttlMs: 1_000,
      })
    })
  })

  test('a token of an owner that has ended is refused as ended', async () => {
    const tokens = new OwnerTokens()
    let token = ''
    let ended!: Owner
    await sandbox.run((owner) => {
      ended = owner
      token = tokens.mint(owner)
    })
    expect(tokens.verify(token)).toEqual({ kind: 'ended', owner: ended, ownerId: ended.id })
  })

  test('a bare owner id is unsigned; anything else is unreadable', async () => {
    const tokens = new OwnerTokens()
    await sandbox.run((owner) => {
      expect(tokens.verify(owner.id)).toEqual({ kind: 'unreadable', unsigned: true })
      expect(tokens.verify('Bearer abc')).toEqual({ kind: 'unreadable', unsigned: false })
    })
  })
})

describe('withRequestOwner', () => {
  test('runs the handler as the owner its headers name, and as it is without them', async () => {
    await sandbox.run(async (owner) => {
      const headers = ownerHeaders(sandbox)
      await sandbox.unboxedRun(() => {
        expect(withRequestOwner(sandbox, headers, () => sandbox.currentOwner())).toBe(owner)
        expect(withRequestOwner(sandbox, new Headers(headers), () => sandbox.currentOwner())).toBe(
          owner,
        )
        expect(withRequestOwner(sandbox, {}, () => sandbox.currentOwner())).toBeUndefined()
      })
    })
  })

  test('throws the refusal for a token of another sandbox', async () => {
    await other.run(() => {
      const headers = ownerHeaders(other)
      let thrown: unknown
      try {
        withRequestOwner(sandbox, headers, () => 'ran')
      } catch (error) {
        thrown = error
      }
      expect(isOwnershipError(thrown)).toBe(true)
      expect((thrown as Error).message).toMatch(/signed by another sandbox \(key [0-9a-f]{8}\)/)
    })
  })
})

describe('one request carrying the tokens of two sandboxes', () => {
  test('each sandbox’s server takes its own', async () => {
    await sandbox.run(async (mine) => {
      await other.run(async (theirs) => {
        const both = `${tokenOf(ownerHeaders(other))}, ${tokenOf(ownerHeaders(sandbox))}`
        const headers = { [OWNER_HEADER]: both }
        expect(withRequestOwner(sandbox, headers, () => sandbox.currentOwner())).toBe(mine)
        expect(withRequestOwner(other, headers, () => other.currentOwner())).toBe(theirs)
      })
    })
  })
})

describe('what a refusal tells', () => {
  let server: Server
  let url: string
  const lines: string[] = []
  const published: unknown[] = []
  const listen = (message: unknown) => published.push(message)

  beforeAll(async () => {
    diagnostics.subscribe('sqlsandbox:request-refused', listen)
    const listener = ownerRequestListener(sandbox, (_req, res) => res.end('ran'), {
      log: (line) => lines.push(line),
    })
    server = createServer(listener)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    diagnostics.unsubscribe('sqlsandbox:request-refused', listen)
    await new Promise((resolve) => server.close(resolve))
  })
  afterEach(() => {
    lines.length = 0
    published.length = 0
  })

  test('a log line and a channel message name the request, the reason and the fix', async () => {
    const headers = await other.run(() => ownerHeaders(other))
    const response = await fetch(`${url}/orders/7`, { headers })
    expect(response.status).toBe(403)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(
      /^sqlsandbox: ownerRequestListener\(sandbox, …\) answered 403 \(other-sandbox\): the request GET \/orders\/7 carries an owner token signed by another sandbox/,
    )
    expect(published).toEqual([
      expect.objectContaining({
        sandbox: sandbox.name,
        method: 'GET',
        url: '/orders/7',
        status: 403,
        reason: 'other-sandbox',
        code: 'OWNER_TOKEN_REFUSED',
      }),
    ])
  })

  test('a late request’s answer says which owner ended and when', async () => {
    const headers = await sandbox.run(() => ownerHeaders(sandbox))
    const response = await fetch(`${url}/late`, { headers })
    expect(response.status).toBe(409)
    const body = (await response.json()) as { code: string; message: string }
    expect(body.code).toBe('OWNER_CHECKED_IN')
    expect(body.message).toMatch(
      /^owner [0-9a-f]{8} .* checked in \d+ms ago while the request GET \/late/,
    )
  })

  test('a request with no token while tests own connections is reported once, with the fix', async () => {
    await sandbox.run(async () => {
      await sandbox.unboxedRun(async () => {
        expect(await (await fetch(`${url}/a`)).text()).toBe('ran')
        expect(await (await fetch(`${url}/b`)).text()).toBe('ran')
      })
    })
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain(
      'the request GET /a reached ownerRequestListener(sandbox, …) without an owner token',
    )
    expect(lines[0]).toContain('beforeAll(() => stampOutgoingRequests(sandbox))')
  })
})

describe('under NODE_ENV=production', () => {
  afterEach(() => {
    vi.unstubAllEnvs()
  })

  test.each([
    ['expressOwnerMiddleware', () => expressOwnerMiddleware(sandbox)],
    ['fastifyOwnerHook', () => fastifyOwnerHook(sandbox)],
    ['honoOwnerMiddleware', () => honoOwnerMiddleware(sandbox)],
    ['ownerRequestListener', () => ownerRequestListener(sandbox, () => {})],
    ['withRequestOwner', () => withRequestOwner(sandbox, {}, () => {})],
  ])('%s refuses to be set up, and says where it belongs', (name, setUp) => {
    vi.stubEnv('NODE_ENV', 'production')
    expect(setUp).toThrow(
      expect.objectContaining({
        code: 'UNSUPPORTED_OPERATION',
        message: expect.stringMatching(
          new RegExp(
            `^${name}\\(sandbox.*refuses to run with NODE_ENV=production.*only tests may do`,
          ),
        ),
      }),
    )
  })
})

describe('a request whose owner ends while its handler runs', () => {
  test('the queries it sends after the end are refused as late queries', async () => {
    let reached!: () => void
    const handlerReached = new Promise<void>((resolve) => {
      reached = resolve
    })
    let open!: () => void
    const gate = new Promise<void>((resolve) => {
      open = resolve
    })
    const server = createServer(
      ownerRequestListener(sandbox, async (_req, res) => {
        reached()
        await gate
        const outcome = await sandbox.query('select 1').then(
          () => 'ran',
          (error: { code?: string }) => error.code,
        )
        res.end(outcome)
      }),
    )
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      let response!: Promise<Response>
      await sandbox.run(async () => {
        response = fetch(url, { headers: ownerHeaders(sandbox) })
        await handlerReached
      }) // the owner ends here, its request still running
      open()
      expect(await (await response).text()).toBe('OWNER_CHECKED_IN')
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
