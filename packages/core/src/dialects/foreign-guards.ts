/**
 * The sandboxes that guard a driver library's connections, by the database each one guards: a
 * library wraps its connections' statement entry point while at least one guard is installed
 * (`patch` returns the undo), and asks `refusalFor` before each statement of a connection that
 * is not a sandbox's.
 */
export class ForeignGuards {
  readonly #guards = new Set<Guard>()
  readonly #patch: () => () => void
  readonly #library: string
  #unpatch: (() => void) | undefined

  constructor(library: string, patch: () => () => void) {
    this.#library = library
    this.#patch = patch
  }

  add(target: string, refusal: (connection: string) => Error | undefined): () => void {
    const guard: Guard = { target, refusal }
    this.#guards.add(guard)
    this.#unpatch ??= this.#patch()
    return () => {
      this.#guards.delete(guard)
      if (this.#guards.size > 0) return
      this.#unpatch?.()
      this.#unpatch = undefined
    }
  }

  /** The error a statement to `target` gets from the first guard of that database that refuses. */
  refusalFor(target: string): Error | undefined {
    for (const guard of this.#guards) {
      if (guard.target !== target) continue
      const shown = target.replace(/^loopback/, 'localhost')
      const error = guard.refusal(`a ${this.#library} connection to ${shown}`)
      if (error) return error
    }
    return undefined
  }
}

interface Guard {
  target: string
  refusal: (connection: string) => Error | undefined
}
