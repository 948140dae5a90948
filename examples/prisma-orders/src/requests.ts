import type { OrderLineRequest, OrderRequest } from './place-order.js'

/** A request body the API cannot use: answered with 400 and the reason. */
export class BadRequestError extends Error {
  readonly code = 'BAD_REQUEST'
}

export interface ProductRequest {
  name: string
  stock: number
  priceCents: number
}

export function parseProductRequest(body: unknown): ProductRequest {
  const { name, stock, priceCents } = record(body, 'the body')
  return {
    name: text(name, 'name'),
    stock: count(stock, 'stock', 0),
    priceCents: count(priceCents, 'priceCents', 0),
  }
}

export function parseOrderRequest(body: unknown): OrderRequest {
  const { customer, lines } = record(body, 'the body')
  if (!Array.isArray(lines) || lines.length === 0) {
    throw new BadRequestError('lines must be a non-empty array of { productId, qty }')
  }
  const parsed = lines.map((line, i): OrderLineRequest => {
    const { productId, qty } = record(line, `lines[${i}]`)
    return {
      productId: count(productId, `lines[${i}].productId`, 1),
      qty: count(qty, `lines[${i}].qty`, 1),
    }
  })
  if (new Set(parsed.map((line) => line.productId)).size !== parsed.length) {
    throw new BadRequestError('each product may appear in one line only')
  }
  return { customer: text(customer, 'customer'), lines: parsed }
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BadRequestError(`${what} must be a JSON object`)
  }
  return value as Record<string, unknown>
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new BadRequestError(`${what} must be a non-empty string`)
  }
  return value
}

function count(value: unknown, what: string, min: number): number {
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > 2 ** 31 - 1) {
    throw new BadRequestError(`${what} must be an integer of at least ${min}`)
  }
  return value as number
}
