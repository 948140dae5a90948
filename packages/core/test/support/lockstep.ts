/**
 * For two workers that each take a first lock, then ask for the other's: `locked()` resolves once
 * both hold their first, so they deadlock whatever the load.
 */
export function lockstep(): { locked(): Promise<void> } {
  let count = 0
  let bothLocked: () => void = () => {}
  const both = new Promise<void>((resolve) => {
    bothLocked = resolve
  })
  return {
    locked() {
      if (++count === 2) bothLocked()
      return both
    },
  }
}
