import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Charge } from '../../src/payments.js'

export interface PaymentProvider {
  /** The base URL the app's payments client is given. */
  readonly url: string
  /** Every charge taken, in order. */
  readonly charges: readonly (Charge & { id: string })[]
  close(): Promise<void>
}

/** A fake payment provider on 127.0.0.1: `POST /charges` takes every charge and answers its id. */
export async function startPaymentProvider(): Promise<PaymentProvider> {
  const charges: (Charge & { id: string })[] = []
  const server = createServer(async (request, response) => {
    if (request.method !== 'POST' || request.url !== '/charges') {
      response.writeHead(404).end()
      return
    }
    let body = ''
    for await (const chunk of request) body += chunk
    const charge = { ...(JSON.parse(body) as Charge), id: `pay_${charges.length + 1}` }
    charges.push(charge)
    response.writeHead(201, { 'content-type': 'application/json' })
    response.end(JSON.stringify({ id: charge.id }))
  })
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    charges,
    close: () =>
      new Promise<void>((closed, failed) =>
        server.close((error) => (error ? failed(error) : closed())),
      ),
  }
}
