import fc from 'fast-check'
import { afterEach, describe, expect, test } from 'vitest'
import { decideJob } from '../../src/integrations/bullmq/job-decision.js'
import { runJobsAsOwners } from '../../src/integrations/bullmq/job-owners.js'
import { JOB_OWNER_OPTION, jobRefusalOf } from '../../src/integrations/bullmq/job-refusals.js'
import {
  stampedFlow,
  stampedOptions,
  stampJobs,
} from '../../src/integrations/bullmq/job-stamping.js'
import {
  checkTokens,
  ownerTokensOf,
  type TokensCheck,
} from '../../src/integrations/owner-tokens.js'
import { asJobOwner } from '../../src/integrations/workers/job-processor.js'
import { OwnerLink } from '../../src/integrations/workers/owner-link.js'
import { END, Owner } from '../../src/ownership/owner.js'

const owner = (name: string) => new Owner({ name, checkedOutAt: 'test', ownershipTimeout: 1000 })

describe('stampedOptions and stampedFlow', () => {
  const json = fc.dictionary(fc.string(), fc.jsonValue())

  test('a copy carries the token; the app’s options are never changed', () => {
    fc.assert(
      fc.property(fc.option(json, { nil: undefined }), (opts) => {
        const before = structuredClone(opts)
        const stamped = stampedOptions(opts, 'token')
        expect(opts).toEqual(before)
        if (opts && JOB_OWNER_OPTION in opts) expect(stamped).toBe(opts)
        else expect(stamped).toEqual({ ...opts, [JOB_OWNER_OPTION]: 'token' })
      }),
    )
  })

  test('no token: the options are passed on as they are', () => {
    const opts = { attempts: 3 }
    expect(stampedOptions(opts, undefined)).toBe(opts)
  })

  test('a token already there is kept', () => {
    expect(stampedOptions({ [JOB_OWNER_OPTION]: 'theirs' }, 'ours')).toEqual({
      [JOB_OWNER_OPTION]: 'theirs',
    })
  })

  interface Node {
    name: string
    data: unknown
    opts?: Record<string, unknown>
    children?: Node[]
  }
  const flow: fc.Arbitrary<Node> = fc.letrec<{ node: Node }>((tie) => ({
    node: fc.record(
      {
        name: fc.string(),
        data: fc.jsonValue(),
        opts: json,
        children: fc.array(tie('node'), { maxLength: 3 }),
      },
      { requiredKeys: ['name', 'data'] },
    ),
  })).node

  test('every node of a flow carries the token; names and data are untouched', () => {
    const nodes = (node: Node): Node[] => [node, ...(node.children ?? []).flatMap(nodes)]
    fc.assert(
      fc.property(flow, (root) => {
        const before = structuredClone(root)
        const stamped = stampedFlow(root, 'token')
        expect(root).toEqual(before)
        const pairs = nodes(stamped).map((node, i) => [node, nodes(before)[i]!] as const)
        for (const [node, original] of pairs) {
          expect(node.name).toBe(original.name)
          expect(node.data).toEqual(original.data)
          expect(node.opts?.[JOB_OWNER_OPTION]).toBe(
            original.opts && JOB_OWNER_OPTION in original.opts
              ? original.opts[JOB_OWNER_OPTION]
              : 'token',
          )
        }
      }),
    )
  })
})

describe('decideJob', () => {
  const live = owner('live')
  const refusedKinds = ['unreadable', 'forged', 'expired', 'ended'] as const
  const check: fc.Arbitrary<TokensCheck> = fc.oneof(
    fc.constant({ kind: 'owner', owner: live } as const),
    fc.constant({
      kind: 'refused',
      check: { kind: 'other-sandbox', keyId: 'k' },
      keyId: 'own',
    } as const),
    fc.constantFrom(...refusedKinds).map(
      (kind) =>
        ({
          kind: 'refused',
          check: {
            kind,
            unsigned: false,
            expiredMsAgo: 1,
            ttlMs: 1,
            ownerId: 'x',
            owner: undefined,
          },
          keyId: 'own',
        }) as TokensCheck,
    ),
  )
  const checks = fc.array(
    fc.tuple(fc.nat(), check).map(([sandbox, check]) => ({ sandbox, check })),
    { maxLength: 4 },
  )

  test('an unstamped job runs as no one, whatever the sandboxes say', () => {
    fc.assert(
      fc.property(checks, (all) => {
        expect(decideJob(false, all)).toEqual({ kind: 'unstamped' })
      }),
    )
  })

  test('a stamped job runs only as owners, and only when no token of a joined sandbox is refused', () => {
    fc.assert(
      fc.property(checks, (all) => {
        const decision = decideJob(true, all)
        const bad = all.some(
          ({ check }) => check.kind === 'refused' && check.check.kind !== 'other-sandbox',
        )
        const owners = all.filter(({ check }) => check.kind === 'owner')
        if (all.length === 0) expect(decision.kind).toBe('unstamped')
        else if (bad || owners.length === 0) expect(decision.kind).toBe('refused')
        else
          expect(decision).toEqual({
            kind: 'owners',
            owners: owners.map(({ sandbox }) => ({ sandbox, owner: live })),
          })
      }),
    )
  })
})

describe('tokens a job carries', () => {
  test('a token of another sandbox of this process is another sandbox’s, not this one’s', () => {
    const a = {}
    const b = {}
    const mine = owner('mine')
    const token = ownerTokensOf(a).mint(mine)
    expect(checkTokens(a, [token])).toEqual({ kind: 'owner', owner: mine })
    expect(checkTokens(b, [token])).toMatchObject({
      kind: 'refused',
      check: { kind: 'other-sandbox' },
    })
  })

  test('the owner ended: OWNER_CHECKED_IN, naming the job and the fix', () => {
    const sandbox = {}
    const ended = owner('ended')
    const token = ownerTokensOf(sandbox).mint(ended)
    ended[END]({ state: 'checked-in' })
    const found = checkTokens(sandbox, [token])
    if (found.kind !== 'refused') throw new Error('expected a refusal')
    const refusal = jobRefusalOf(
      found.check,
      { queueName: 'emails', id: '7', name: 'send' },
      found.keyId,
    )
    expect(refusal.reason).toBe('owner-ended')
    expect(refusal.error).toMatchObject({ code: 'OWNER_CHECKED_IN' })
    expect(refusal.error.message).toMatch(
      /the job "send" \(id 7\) of queue "emails" belongs to owner/,
    )
    expect(refusal.error.message).toMatch(/waitUntilFinished/)
  })

  test.each([
    [{ kind: 'unreadable', unsigned: false }, 'malformed-token'],
    [{ kind: 'unreadable', unsigned: true }, 'unsigned-owner-id'],
    [{ kind: 'other-sandbox', keyId: 'k' }, 'other-sandbox'],
    [{ kind: 'forged' }, 'forged-token'],
    [{ kind: 'expired', expiredMsAgo: 5, ttlMs: 10 }, 'expired-token'],
  ] as const)('%o is refused as %s, OWNER_TOKEN_REFUSED', (check, reason) => {
    const refusal = jobRefusalOf(check, { queueName: 'q', id: '1', name: 'n' }, 'own')
    expect(refusal.reason).toBe(reason)
    expect(refusal.error).toMatchObject({ name: 'OwnershipError', code: 'OWNER_TOKEN_REFUSED' })
  })
})

describe('under NODE_ENV=production', () => {
  const previous = process.env.NODE_ENV
  afterEach(() => {
    process.env.NODE_ENV = previous
  })

  test.each([
    ['stampJobs', () => stampJobs({ currentOwner: () => undefined })],
    [
      'runJobsAsOwners',
      () => runJobsAsOwners({ allow: (_, fn) => fn(), withoutOwner: (fn) => fn() }, { log: false }),
    ],
  ])('%s refuses to be set up', (_, setUp) => {
    process.env.NODE_ENV = 'production'
    expect(setUp).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_OPERATION' }))
  })
})

describe('asJobOwner (a sandboxed processor file)', () => {
  // The worker side's view of the token in effect, through a link that sends nothing.
  const link = new OwnerLink({
    describe: 'test',
    boundary: 'thread',
    fix: '',
    post: () => {},
    listen: () => {},
  })
  const options = fc.dictionary(
    fc.string().filter((key) => key !== JOB_OWNER_OPTION && key !== '__proto__'),
    fc.jsonValue(),
  )

  test('a stamped job runs in its token; the processor sees the options without it', () => {
    fc.assert(
      fc.property(options, fc.string({ minLength: 1 }), (opts, token) => {
        const seen = asJobOwner((job: { opts?: Record<string, unknown> }, extra: string) => ({
          opts: job.opts,
          token: link.currentToken(),
          extra,
        }))({ opts: { ...opts, [JOB_OWNER_OPTION]: token } }, 'lock token')
        expect(seen).toEqual({ opts, token, extra: 'lock token' })
      }),
    )
  })

  test('a job with no token (production, or added outside tests) runs as it is', () => {
    fc.assert(
      fc.property(fc.option(options, { nil: undefined }), (opts) => {
        const job = { opts }
        const seen = asJobOwner((given: typeof job) => ({ given, token: link.currentToken() }))(job)
        expect(seen.given).toBe(job)
        expect(seen.given.opts).toBe(opts)
        expect(seen.token).toBeUndefined()
      }),
    )
  })
})
