import { fileURLToPath } from 'node:url'

/**
 * Libraries that start threads or child processes whenever their pool needs one, then hand
 * each many tasks (piscina beyond `minThreads`, BullMQ's sandboxed processors). A test that
 * happens to be running when one starts does not own it: each task must carry its own owner.
 */
const POOLS = ['piscina', 'tinypool', 'workerpool', 'poolifier', 'bullmq']
const POOL_FILE = new RegExp(`[\\\\/]node_modules[\\\\/](?:${POOLS.join('|')})[\\\\/]`)
/** This package's own files (the isolator's `Worker` subclass and `fork` wrapper): not a creator. */
const OWN_ROOT = new URL('../../', import.meta.url)
const OWN = [OWN_ROOT.href, fileURLToPath(OWN_ROOT)]

/**
 * Whether the thread or process being constructed right now (called from the `worker_threads`
 * / `child_process` diagnostics channel, which Node publishes inside its constructor) is
 * started by a pool library: the first frame past Node's own (`new Worker`, `fork`) and this
 * package's (the isolator's wrappers of them) is the code that asked for it.
 */
export function startedByPool(): boolean {
  const creator = creatorFile()
  return creator !== undefined && POOL_FILE.test(creator)
}

function creatorFile(): string | undefined {
  const { prepareStackTrace, stackTraceLimit } = Error
  const holder: { stack?: NodeJS.CallSite[] } = {}
  try {
    Error.stackTraceLimit = 20
    Error.prepareStackTrace = (_, callSites) => callSites
    Error.captureStackTrace(holder, startedByPool)
    const frames = holder.stack ?? []
    let inNode = false
    for (const frame of frames) {
      const file = frame.getFileName() ?? ''
      if (file.startsWith('node:')) inNode = true
      else if (inNode && !OWN.some((root) => file.startsWith(root))) return file
    }
    return undefined
  } finally {
    Error.prepareStackTrace = prepareStackTrace
    Error.stackTraceLimit = stackTraceLimit
  }
}
