import { type ConnectionDemand, checkConnectionBudget } from './connection-budget.js'
import { openTemplateServer } from './open-server.js'

/**
 * Without template databases: fails at once with CONNECTION_BUDGET when the server (or the
 * user's own limit) has fewer free connections than the run may open. For a globalSetup.
 *
 * @example
 * export default () => checkServerConnections(process.env.DATABASE_URL!, { workers: 4, poolSize: 10 })
 */
export async function checkServerConnections(url: string, demand: ConnectionDemand): Promise<void> {
  const server = await openTemplateServer(url, {})
  try {
    checkConnectionBudget(demand, await server.connectionBudget(), server.label)
  } finally {
    await server.close()
  }
}
