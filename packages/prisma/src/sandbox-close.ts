interface Closable {
  close(): Promise<void>
}

const hooks = new WeakMap<Closable, Array<() => Promise<void>>>()

/**
 * Runs `hook` once `sandbox.close()` has closed the sandbox's connections. Core announces no
 * close, so the first hook wraps this sandbox's `close` (an own property of this instance; the
 * class is untouched).
 */
export function afterSandboxClose(sandbox: Closable, hook: () => Promise<void>): void {
  let pending = hooks.get(sandbox)
  if (!pending) {
    const waiting: Array<() => Promise<void>> = []
    const close = sandbox.close.bind(sandbox)
    sandbox.close = async () => {
      try {
        await close()
      } finally {
        await Promise.all(waiting.splice(0).map((run) => run()))
      }
    }
    pending = waiting
    hooks.set(sandbox, pending)
  }
  pending.push(hook)
}
