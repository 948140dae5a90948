import type { Owner } from '@sqlsandbox/core'

interface Work {
  running: number
  /** Some of it settled after its owner had ended: the owner ended in the middle of it. */
  cutOff: boolean
  settled: Array<() => void>
}

/**
 * The Prisma work of each root owner still running — queries, and interactive transactions from
 * their start to their commit or rollback — so that a client is lent to the next owner only
 * once nothing of the last one is running on it.
 */
class OwnerWork {
  readonly #work = new WeakMap<Owner, Work>()

  /** Work of `owner`'s root begins: call the returned function once it has settled. */
  start(owner: Owner | undefined): () => void {
    if (!owner) return NOTHING
    const root = owner.root
    let work = this.#work.get(root)
    if (!work) {
      work = { running: 0, cutOff: false, settled: [] }
      this.#work.set(root, work)
    }
    const counted = work
    counted.running++
    let done = false
    return () => {
      if (done) return
      done = true
      if (!root.isLive) counted.cutOff = true
      if (--counted.running === 0) for (const resolve of counted.settled.splice(0)) resolve()
    }
  }

  /** Work of `root` is running, or its end cut some of it off: its client may carry its state. */
  unfinished(root: Owner): boolean {
    const work = this.#work.get(root)
    return work !== undefined && (work.running > 0 || work.cutOff)
  }

  /** Resolves once no work of `root` is running. */
  settled(root: Owner): Promise<void> {
    const work = this.#work.get(root)
    if (!work || work.running === 0) return Promise.resolve()
    return new Promise((resolve) => work.settled.push(resolve))
  }
}

const NOTHING = () => {}

export const ownerWork = new OwnerWork()
