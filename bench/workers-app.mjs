// The bench's worker (thread or forked child): times `SELECT 1` through its worker pool, or
// (`floor`) a bare round trip to the bench's process, which runs the same `SELECT 1` on a plain
// pg client: what any proxy over this channel pays, with no sandbox on either side.
// Loads core's build (`pnpm run build` first): a worker runs no TypeScript on Node 20.
import { BroadcastChannel, parentPort, threadId } from 'node:worker_threads'
import { workerPgPool } from '../packages/core/dist/integrations/workers/pg.js'

const pool = workerPgPool()
const reply = (message) => (parentPort ? parentPort.postMessage(message) : process.send(message))

let answered
const floorChannel = parentPort ? new BroadcastChannel(`sqlsandbox-bench-floor:${threadId}`) : null
if (floorChannel) floorChannel.onmessage = () => answered()
const floorTrip = () =>
  new Promise((resolve) => {
    answered = resolve
    if (floorChannel) floorChannel.postMessage(0)
    else process.send({ ping: true })
  })
const query = () => pool.query('SELECT 1')

async function run(count, trip) {
  const times = new Array(count)
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint()
    await trip()
    times[i] = Number(process.hrtime.bigint() - start) / 1000
  }
  return times
}

const onCommand = async (command) => {
  if (command.exit) {
    floorChannel?.close()
    process.exit(0)
  }
  if (command.pong) return answered()
  reply({ times: await run(command.count, command.floor ? floorTrip : query) })
}
if (parentPort) parentPort.on('message', onCommand)
else process.on('message', onCommand)
