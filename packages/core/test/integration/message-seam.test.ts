import { randomUUID } from 'node:crypto'
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { createSandbox, type Owner, type Sandbox } from '../../src/index.js'
import { DIALECTS, type TestDialect } from '../support/dialects.js'

/**
 * The connection-side contract is message-shaped: a statement goes in as plain data (sql,
 * params, rowMode) and comes out as plain data (rows, fields, rowCount) or an error. So an
 * owner's connection can be reached from across a MessagePort with nothing but `sandbox.query`
 * and the owner's id: the seam worker threads and child processes will use.
 */
describe.each(DIALECTS.map((make) => [make().name, make] as const))('messages on %s', (_, make) => {
  let db: TestDialect
  let sandbox: Sandbox
  let tag: string
  const p = (n: number) => db.param(n)

  beforeAll(() => {
    db = make()
    sandbox = createSandbox({ driver: db.driver() })
  })
  afterAll(async () => {
    await sandbox.close()
    await db.end()
  })
  beforeEach(() => {
    tag = randomUUID().slice(0, 12)
  })
  afterEach(async () => {
    expect(await db.committedCount(tag)).toBe(0)
  })

  test('a statement’s result is plain data: rows as objects or arrays, and the columns', () =>
    sandbox.run(async () => {
      const sql = 'select 1 as one, 2 as two'
      const asObjects = await sandbox.query(sql)
      expect(asObjects.rows).toEqual([{ one: 1, two: 2 }])
      expect(asObjects.fields?.map((field) => field.name)).toEqual(['one', 'two'])
      const asArrays = await sandbox.query(sql, [], { rowMode: 'array' })
      expect(asArrays.rows).toEqual([[1, 2]])
      expect(asArrays.fields?.map((field) => field.name)).toEqual(['one', 'two'])
      expect(asArrays.fields?.every((field) => typeof field.dataTypeID === 'number')).toBe(true)
      // Plain data: it survives the structured clone a MessagePort applies.
      expect(structuredClone(asArrays)).toEqual(asArrays)
    }))

  test('a worker thread reaches the test’s owner over a MessagePort; after checkin it is refused', async () => {
    const { port1: served, port2: forWorker } = new MessageChannel()
    let owner: Owner | undefined
    serveOwnerStatements(sandbox, served, () => owner)
    const worker = new Worker(WORKER, {
      eval: true,
      workerData: { port: forWorker, tag, insert: insertSql(), select: selectSql() },
      transferList: [forWorker],
    })
    const report = new Promise<WorkerReport>((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
    })
    try {
      await sandbox.run(async (checkedOut) => {
        owner = checkedOut
        worker.postMessage('write')
        const written = await report
        expect(written).toEqual({ names: ['from the worker'] })
        // The worker's row is in the test's transaction: the test sees it too.
        const seen = await sandbox.query(selectSql(), [tag])
        expect(seen.rows).toEqual([{ name: 'from the worker' }])
      })
      const late = new Promise<WorkerReport>((resolve) => worker.once('message', resolve))
      worker.postMessage('write')
      expect(await late).toMatchObject({ error: { code: 'OWNER_CHECKED_IN' } })
    } finally {
      await worker.terminate()
      served.close()
    }
  })

  const insertSql = () => `insert into sandbox_items (tag, name) values (${p(1)}, ${p(2)})`
  const selectSql = () => `select name from sandbox_items where tag = ${p(1)} order by id`
})

interface WorkerReport {
  names?: string[]
  error?: { code?: string; message: string }
}

/**
 * The main thread's side: each message is one statement for the owner the test checked out,
 * answered with its result or its error, as plain data.
 */
function serveOwnerStatements(
  sandbox: Sandbox,
  port: MessagePort,
  currentOwner: () => Owner | undefined,
): void {
  port.on('message', async (message: { id: number; sql: string; params: unknown[] }) => {
    try {
      const owner = currentOwner()
      if (!owner) throw new Error('no owner checked out yet')
      const result = await sandbox.query(message.sql, message.params, { owner })
      port.postMessage({ id: message.id, result })
    } catch (error) {
      const { code, message: text } = error as { code?: string; message: string }
      port.postMessage({ id: message.id, error: { code, message: text } })
    }
  })
}

/** The worker: on 'write', inserts a row and reads it back over the port, then reports. */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const { port, tag, insert, select } = workerData
let next = 0
const waiting = new Map()
port.on('message', (reply) => { waiting.get(reply.id)(reply); waiting.delete(reply.id) })
const send = (sql, params) => new Promise((resolve, reject) => {
  const id = next++
  waiting.set(id, (reply) => (reply.error ? reject(reply.error) : resolve(reply.result)))
  port.postMessage({ id, sql, params })
})
parentPort.on('message', async () => {
  try {
    await send(insert, [tag, 'from the worker'])
    const { rows } = await send(select, [tag])
    parentPort.postMessage({ names: rows.map((row) => row.name) })
  } catch (error) {
    parentPort.postMessage({ error })
  }
})
`
