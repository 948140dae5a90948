// The bench's worker (thread or forked child): times `SELECT 1` through its worker pool.
// Loads core's build (`pnpm run build` first): a worker runs no TypeScript on Node 20.
import { parentPort } from 'node:worker_threads'
import { workerPgPool } from '../packages/core/dist/integrations/workers/pg.js'

const pool = workerPgPool()
const reply = (message) => (parentPort ? parentPort.postMessage(message) : process.send(message))

async function run(count) {
  const times = new Array(count)
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint()
    await pool.query('SELECT 1')
    times[i] = Number(process.hrtime.bigint() - start) / 1000
  }
  return times
}

const onCommand = async (command) => {
  if (command.exit) process.exit(0)
  reply({ times: await run(command.count) })
}
if (parentPort) parentPort.on('message', onCommand)
else process.on('message', onCommand)
