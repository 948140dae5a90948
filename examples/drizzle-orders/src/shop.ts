/** What the HTTP layer needs from the database; src/postgres/shop.ts and src/mysql/shop.ts. */
export interface Shop {
  addProduct(product: NewProduct): Promise<Product>
  listProducts(): Promise<Product[]>
  /** Inserts the order and its lines and takes the stock, all in one transaction. */
  placeOrder(order: NewOrder): Promise<PlaceOrderOutcome>
  findOrder(id: number): Promise<Order | undefined>
  /** Marks a paid order confirmed: what the confirmation job does (src/confirmations.ts). */
  confirmOrder(id: number, paymentId: string): Promise<void>
}

export interface NewProduct {
  name: string
  stock: number
  priceCents: number
}

export interface Product extends NewProduct {
  id: number
}

export interface OrderLine {
  productId: number
  qty: number
}

export interface NewOrder {
  customer: string
  lines: OrderLine[]
}

export interface Order extends NewOrder {
  id: number
  /** 'placed' by the order's transaction; 'confirmed' by the confirmation job once paid. */
  status: 'placed' | 'confirmed'
  /** Written by the invoice thread after the commit (src/invoices.ts). */
  totalCents: number | null
  paymentId: string | null
}

export type Refusal =
  | { outcome: 'out-of-stock'; productId: number }
  | { outcome: 'unknown-product'; productId: number }

/** A refused order is an expected outcome, so it is a value, not an exception. */
export type PlaceOrderOutcome = { outcome: 'placed'; order: Order } | Refusal

/**
 * Runs the order's transaction; a refusal thrown inside it (which makes Drizzle roll the
 * transaction back) comes out as the outcome.
 */
export async function placeOrRefuse(place: () => Promise<Order>): Promise<PlaceOrderOutcome> {
  try {
    return { outcome: 'placed', order: await place() }
  } catch (error) {
    if (error instanceof OrderRefused) return error.refusal
    throw error
  }
}

/** Thrown inside the order's transaction to roll it back; placeOrRefuse returns its refusal. */
export class OrderRefused extends Error {
  constructor(readonly refusal: Refusal) {
    super(`order refused: ${refusal.outcome} (product ${refusal.productId})`)
    this.name = 'OrderRefused'
  }
}
