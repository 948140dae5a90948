const LOST = Symbol('sqlsandbox.transactionLost')

/** Marks the error whose statement cost the owner its transaction (a driver began a new one). */
export function markTransactionLost(error: object): void {
  Object.defineProperty(error, LOST, { value: true })
}

export function isTransactionLost(error: unknown): boolean {
  return typeof error === 'object' && error !== null && LOST in error
}
