import { randomUUID } from 'node:crypto'
import type { Sandbox } from '@sqlsandbox/core'
import { sandboxedDrizzle as mysqlDrizzle } from '@sqlsandbox/drizzle/mysql2'
import { sandboxedDrizzle as pgDrizzle } from '@sqlsandbox/drizzle/node-postgres'
import { type ConnectionOptions, FlowProducer, type Job, Queue, Worker } from 'bullmq'
import { count, eq } from 'drizzle-orm'
import { int, mysqlTable, varchar } from 'drizzle-orm/mysql-core'
import { pgTable, serial, text } from 'drizzle-orm/pg-core'
import type { Knex } from 'knex'
import { REDIS_URL } from './databases.js'

/** What the app's job processor does with the database, written once per ORM. */
export interface JobStore {
  add(tag: string, name: string): Promise<void>
  count(tag: string): Promise<number>
  /** An app transaction that writes `name` and commits. */
  addInTransaction(tag: string, name: string): Promise<void>
  /** An app transaction that writes `first`, waits for `resume`, then fails (rolled back). */
  failingOrder(tag: string, first: string, resume: () => Promise<void>): Promise<void>
}

export function knexJobStore(db: Knex): JobStore {
  return {
    add: (tag, name) => db('sandbox_items').insert({ tag, name }),
    count: async (tag) =>
      Number((await db('sandbox_items').where({ tag }).count({ n: '*' }))[0]!.n),
    addInTransaction: (tag, name) =>
      db.transaction(async (trx) => {
        await trx('sandbox_items').insert({ tag, name })
      }),
    failingOrder: (tag, first, resume) =>
      db.transaction(async (trx) => {
        await trx('sandbox_items').insert({ tag, name: first })
        await resume()
        throw new Error('out of stock')
      }),
  }
}

const pgItems = pgTable('sandbox_items', {
  id: serial('id').primaryKey(),
  tag: text('tag').notNull(),
  name: text('name').notNull(),
})
const mysqlItems = mysqlTable('sandbox_items', {
  id: int('id').primaryKey().autoincrement(),
  tag: varchar('tag', { length: 64 }).notNull(),
  name: varchar('name', { length: 255 }).notNull(),
})

export function drizzleJobStore(sandbox: Sandbox, dialect: 'postgres' | 'mysql'): JobStore {
  // One shape for both: the two Drizzle dialects differ only in their table and db types.
  const db = (dialect === 'postgres'
    ? pgDrizzle(sandbox as never)
    : mysqlDrizzle(sandbox as never)) as unknown as ReturnType<typeof pgDrizzle>
  const items = (dialect === 'postgres' ? pgItems : mysqlItems) as typeof pgItems
  return {
    add: async (tag, name) => {
      await db.insert(items).values({ tag, name })
    },
    count: async (tag) =>
      Number((await db.select({ n: count() }).from(items).where(eq(items.tag, tag)))[0]!.n),
    addInTransaction: (tag, name) =>
      db.transaction(async (tx) => {
        await tx.insert(items).values({ tag, name })
      }),
    failingOrder: (tag, first, resume) =>
      db.transaction(async (tx) => {
        await tx.insert(items).values({ tag, name: first })
        await resume()
        throw new Error('out of stock')
      }),
  }
}

export interface ItemJob {
  tag: string
  name: string
  /** `order`: the failing transaction pauses here until the test opens the gate. */
  gate?: string
}

/** Something a test and a processor both wait on: bounded, so nothing hangs. */
export class Gates {
  readonly #gates = new Map<string, { promise: Promise<void>; open(): void }>()

  get(name: string): { promise: Promise<void>; open(): void } {
    let gate = this.#gates.get(name)
    if (!gate) {
      let open!: () => void
      const promise = new Promise<void>((resolve, reject) => {
        open = resolve
        setTimeout(() => reject(new Error(`gate ${name} was never opened`)), 10_000).unref()
      })
      gate = { promise, open }
      this.#gates.set(name, gate)
    }
    return gate
  }
}

export interface JobOutcome {
  result?: unknown
  error?: Error & { code?: string }
  attemptsMade: number
}

/** Each job's final completion or failure, as a worker reports it; `of(job)` waits (bounded). */
export class JobOutcomes {
  readonly #outcomes = new Map<string, JobOutcome>()
  readonly #waiting = new Map<string, (outcome: JobOutcome) => void>()

  constructor(worker: Worker) {
    worker.on('completed', (job, result) =>
      this.#settle(job, { result, attemptsMade: job.attemptsMade }),
    )
    worker.on('failed', (job, error) => {
      if (!job) return
      // A failed attempt that BullMQ retries is not the job's outcome yet.
      if (job.attemptsMade < (job.opts.attempts ?? 1)) return
      this.#settle(job, { error, attemptsMade: job.attemptsMade })
    })
  }

  of(job: Job | string): Promise<JobOutcome> {
    const id = typeof job === 'string' ? job : job.id!
    const known = this.#outcomes.get(id)
    if (known) return Promise.resolve(known)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`job ${id} neither completed nor failed within 10 s`)),
        10_000,
      )
      this.#waiting.set(id, (outcome) => {
        clearTimeout(timer)
        resolve(outcome)
      })
    })
  }

  #settle(job: Job, outcome: JobOutcome): void {
    this.#outcomes.set(job.id!, outcome)
    this.#waiting.get(job.id!)?.(outcome)
    this.#waiting.delete(job.id!)
  }
}

/** Where the BullMQ tests' Redis is, as a BullMQ connection. */
export function redisConnection(): ConnectionOptions & { host: string; port: number } {
  const url = new URL(REDIS_URL)
  return { host: url.hostname, port: Number(url.port || 6379) }
}

/**
 * The app: a Queue, a FlowProducer and a Worker made outside every test, as app code makes
 * them; the processor writes through the app's ORM. `outcome(id)` waits (bounded) for a job's
 * final completion or failure, whichever the worker reports.
 */
export class JobApp {
  readonly connection = redisConnection()
  readonly prefix = `sqlsandbox_bullmq_${randomUUID().slice(0, 8)}`
  readonly queue: Queue<ItemJob>
  readonly flows: FlowProducer
  readonly worker: Worker<ItemJob>
  readonly seen: Job<ItemJob>[] = []
  readonly #outcomes: JobOutcomes

  constructor(store: JobStore, gates: Gates, options: { autorun?: boolean } = {}) {
    const name = 'items'
    this.queue = new Queue(name, { connection: this.connection, prefix: this.prefix })
    this.flows = new FlowProducer({ connection: this.connection, prefix: this.prefix })
    this.worker = new Worker<ItemJob>(
      name,
      async (job) => {
        this.seen.push(job)
        const { tag, name } = job.data
        if (job.name === 'add') await store.add(tag, name)
        if (job.name === 'add-in-transaction') await store.addInTransaction(tag, name)
        if (job.name === 'chain') {
          // A job that adds the next one: that one is stamped with the same owner.
          await store.add(tag, name)
          return (await this.queue.add('add', { tag, name: `${name}, next` })).id
        }
        if (job.name === 'order') {
          const gate = job.data.gate!
          await store
            .failingOrder(tag, name, async () => {
              gates.get(`${gate}:inside`).open()
              await gates.get(`${gate}:resume`).promise
            })
            .catch(() => {})
        }
        return store.count(tag)
      },
      {
        connection: { ...this.connection, maxRetriesPerRequest: null },
        prefix: this.prefix,
        concurrency: 8,
        autorun: options.autorun ?? true,
      },
    )
    this.#outcomes = new JobOutcomes(this.worker)
  }

  outcome(job: Job | string): Promise<JobOutcome> {
    return this.#outcomes.of(job)
  }

  async close(): Promise<void> {
    await this.worker.close()
    await this.flows.close()
    await this.queue.obliterate({ force: true })
    await this.queue.close()
  }
}
