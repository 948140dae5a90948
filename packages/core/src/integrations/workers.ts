export { joinChildProcesses } from './workers/join-children.js'
export { joinWorkerThreads } from './workers/join-threads.js'
export { DEFAULT_REQUEST_TIMEOUT_MS, HELLO_MS, runAsOwner } from './workers/owner-link.js'
export { type OwnedSandbox, ownerToken } from './workers/remote-service.js'
