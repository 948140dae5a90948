import type { PrismaClient } from './client.js'

export interface OrderLineRequest {
  productId: number
  qty: number
}

export interface OrderRequest {
  customer: string
  lines: OrderLineRequest[]
}

export interface PlacedOrder {
  id: number
  customer: string
  lines: OrderLineRequest[]
}

/** A line asks for more than the product has in stock: the whole order was rolled back. */
export class InsufficientStockError extends Error {
  readonly code = 'INSUFFICIENT_STOCK'
  constructor(
    readonly productId: number,
    readonly requested: number,
  ) {
    super(`product ${productId} has fewer than ${requested} in stock`)
  }
}

/** A line names a product that does not exist: nothing was written. */
export class UnknownProductError extends Error {
  readonly code = 'UNKNOWN_PRODUCT'
  constructor(readonly productId: number) {
    super(`product ${productId} does not exist`)
  }
}

/**
 * Places an order in one interactive transaction: the order and its lines are inserted and each
 * product's stock is decremented, or nothing is. The stock check is part of the UPDATE
 * (`stock >= qty`), so concurrent orders cannot both take the last items.
 */
export function placeOrder(prisma: PrismaClient, request: OrderRequest): Promise<PlacedOrder> {
  return prisma.$transaction(async (tx) => {
    // The products' existence first, as a plain read: on InnoDB a line whose product_id names
    // no product locks, in the foreign key check, the gap after the last product, and
    // concurrent inserts of products wait for this transaction to end.
    const ids = request.lines.map((line) => line.productId)
    const known = await tx.product.findMany({ where: { id: { in: ids } }, select: { id: true } })
    const unknown = ids.find((id) => !known.some((product) => product.id === id))
    if (unknown !== undefined) throw new UnknownProductError(unknown)
    const order = await tx.order.create({
      data: { customer: request.customer, lines: { create: request.lines } },
      include: { lines: { orderBy: { productId: 'asc' } } },
    })
    for (const line of request.lines) {
      const { count } = await tx.product.updateMany({
        where: { id: line.productId, stock: { gte: line.qty } },
        data: { stock: { decrement: line.qty } },
      })
      // Throwing makes Prisma roll the transaction back: the order, its lines, earlier decrements.
      if (count === 0) throw new InsufficientStockError(line.productId, line.qty)
    }
    return {
      id: order.id,
      customer: order.customer,
      lines: order.lines.map(({ productId, qty }) => ({ productId, qty })),
    }
  })
}
