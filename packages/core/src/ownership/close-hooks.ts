import { CLOSE_MS, settlesWithin } from './bounds.js'

/**
 * What runs once a sandbox has closed its connections (`sandbox.onClose`): each hook at most
 * CLOSE_MS, all at once; their errors are reported after all have run.
 */
export class CloseHooks {
  readonly #hooks = new Set<() => unknown>()
  #ran = false

  /** Returns the undo. After `run()`, `hook` runs at once. */
  add(hook: () => unknown): () => void {
    if (this.#ran) {
      void Promise.resolve().then(hook)
      return () => {}
    }
    this.#hooks.add(hook)
    return () => this.#hooks.delete(hook)
  }

  async run(): Promise<void> {
    this.#ran = true
    const hooks = [...this.#hooks]
    this.#hooks.clear()
    const errors: unknown[] = []
    const running = hooks.map((hook) => {
      const done = Promise.resolve().then(hook)
      done.catch((error: unknown) => errors.push(error))
      return settlesWithin(done, CLOSE_MS)
    })
    await Promise.all(running)
    if (errors.length === 1) throw errors[0]
    if (errors.length > 1) throw new AggregateError(errors, 'sandbox.close(): onClose hooks failed')
  }
}
