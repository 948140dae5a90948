import { workerMysqlPool } from '../../../src/integrations/workers/mysql2.js'
import { workerPgPool } from '../../../src/integrations/workers/pg.js'
import { runAsOwner } from '../../../src/integrations/workers.js'

/** A task of a piscina pool: the app's insert, run as the owner whose token the task carries. */
export interface Task {
  dialect: 'postgres' | 'mysql'
  token?: string | undefined
  tag: string
  name: string
}

let pg: ReturnType<typeof workerPgPool> | undefined
let mysql: ReturnType<typeof workerMysqlPool> | undefined

async function insert({ dialect, tag, name }: Task): Promise<number> {
  if (dialect === 'postgres') {
    pg ??= workerPgPool()
    const result = await pg.query('insert into sandbox_items (tag, name) values ($1, $2)', [
      tag,
      name,
    ])
    return result.rowCount ?? 0
  }
  mysql ??= workerMysqlPool()
  const [header] = await mysql.query('insert into sandbox_items (tag, name) values (?, ?)', [
    tag,
    name,
  ])
  return (header as { affectedRows: number }).affectedRows
}

/** The outcome as data: piscina passes a thrown error on without its code. */
export async function runTask(
  task: Task,
): Promise<{ ok?: number; error?: { code?: string; message: string } }> {
  try {
    const ok = task.token ? await runAsOwner(task.token, () => insert(task)) : await insert(task)
    return { ok }
  } catch (error) {
    const { code, message } = error as { code?: string; message: string }
    return { error: { code, message } }
  }
}
