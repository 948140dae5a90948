/** A charge as the payment provider took it. */
export interface Payment {
  id: string
}

export interface Charge {
  orderId: number
  customer: string
  amountCents: number
}

/** The payment provider's API, as the app uses it. */
export interface Payments {
  charge(charge: Charge): Promise<Payment>
}

/**
 * The payment provider at `baseUrl`, over HTTP (`POST /charges`). A charge cannot be taken back
 * by a rollback: the app makes it after the order's transaction has committed (src/app.ts).
 */
export function paymentsAt(baseUrl: string): Payments {
  return {
    async charge(charge) {
      const response = await fetch(new URL('/charges', baseUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(charge),
      })
      if (!response.ok) {
        throw new Error(`the payment provider refused order ${charge.orderId}: ${response.status}`)
      }
      return (await response.json()) as Payment
    },
  }
}
