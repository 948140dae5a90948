// A BullMQ sandboxed processor as an app writes one: BullMQ runs this file in a child process
// (or a worker thread, useWorkerThreads), which serves job after job of any test. Plain
// JavaScript over the package's build: the child runs no TypeScript.
import { threadId } from 'node:worker_threads'
import { asJobOwner } from '@sqlsandbox/core/workers'
import { workerMysqlPool } from '@sqlsandbox/core/workers/mysql2'
import { workerPgPool } from '@sqlsandbox/core/workers/pg'

/** The worker's db module: one pool per dialect, made at first use. */
const pools = {}
const poolOf = (dialect) =>
  (pools[dialect] ??= dialect === 'postgres' ? workerPgPool() : workerMysqlPool())

const INSERT = {
  postgres: 'insert into sandbox_items (tag, name) values ($1, $2)',
  mysql: 'insert into sandbox_items (tag, name) values (?, ?)',
}

export default asJobOwner(async (job) => {
  const { dialect, tag, name } = job.data
  const pool = poolOf(dialect)
  if (job.name === 'add') await pool.query(INSERT[dialect], [tag, name])
  if (job.name === 'add-in-transaction') {
    // An app transaction in the processor: a savepoint in the test's transaction.
    const client = dialect === 'postgres' ? await pool.connect() : await pool.getConnection()
    try {
      await client.query('BEGIN')
      await client.query(INSERT[dialect], [tag, name])
      await client.query('COMMIT')
    } finally {
      client.release()
    }
  }
  // Where it ran, and the options the processor sees (the owner's token taken out).
  return { pid: process.pid, threadId, options: Object.keys(job.opts) }
})
