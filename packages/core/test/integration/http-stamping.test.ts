import http, { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import supertest from 'supertest'
import { request as undiciRequest } from 'undici'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createSandbox } from '../../src/index.js'
import { OWNER_HEADER, ownerHeaders, stampOutgoingRequests } from '../../src/integrations/http.js'
import { fakeDriver } from '../support/fake-driver.js'

const sandbox = createSandbox({ driver: fakeDriver().driver })
let server: Server
let url: string

// Answers with the owner header it received: what the client side put on the request.
beforeAll(async () => {
  server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify(req.headers[OWNER_HEADER] ?? null))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
})
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
  await sandbox.close()
})

const CLIENTS = {
  fetch: async () => (await fetch(url)).json(),
  undici: async () => (await undiciRequest(url)).body.json(),
  supertest: async () => (await supertest(url).get('')).body,
  'http.get': () =>
    new Promise((resolve, reject) => {
      http
        .get(url, (res) => {
          let text = ''
          res.on('data', (chunk) => {
            text += chunk
          })
          res.on('end', () => resolve(JSON.parse(text)))
        })
        .on('error', reject)
    }),
}
const TOKEN = /^sqlsandbox1\.[0-9a-f]{8}\.[0-9a-f-]{36}\.\w+\.\w+\.[\w-]{43}$/

describe.each(Object.entries(CLIENTS))('stamping %s', (_, call) => {
  test('a request made inside an owner’s context carries its signed token', async () => {
    const undo = stampOutgoingRequests(sandbox)
    try {
      await sandbox.run(async () => {
        expect(await call()).toMatch(TOKEN)
      })
    } finally {
      undo()
    }
  })

  test('a request made outside every owner’s context carries none', async () => {
    const undo = stampOutgoingRequests(sandbox)
    try {
      expect(await call()).toBeNull()
    } finally {
      undo()
    }
  })

  test('a host the options do not name is left alone', async () => {
    const undo = stampOutgoingRequests(sandbox, { hosts: ['api.test'] })
    try {
      await sandbox.run(async () => {
        expect(await call()).toBeNull()
      })
    } finally {
      undo()
    }
  })

  test('after the undo, requests are left alone', async () => {
    stampOutgoingRequests(sandbox)()
    await sandbox.run(async () => {
      expect(await call()).toBeNull()
    })
  })
})

describe('stamping', () => {
  test('a header the request already has is kept', async () => {
    const undo = stampOutgoingRequests(sandbox)
    try {
      await sandbox.run(async () => {
        const own = ownerHeaders(sandbox)
        expect(await (await fetch(url, { headers: own })).json()).toBe(own[OWNER_HEADER])
        expect((await supertest(url).get('').set(own)).body).toBe(own[OWNER_HEADER])
      })
    } finally {
      undo()
    }
  })

  test('a hosts test decides by hostname', async () => {
    const seen: string[] = []
    const undo = stampOutgoingRequests(sandbox, {
      hosts: (hostname) => {
        seen.push(hostname)
        return true
      },
    })
    try {
      await sandbox.run(async () => {
        expect(await CLIENTS.fetch()).toMatch(TOKEN)
        expect(await CLIENTS.supertest()).toMatch(TOKEN)
      })
      expect(seen).toEqual(['127.0.0.1', '127.0.0.1'])
    } finally {
      undo()
    }
  })

  test('two stamping sandboxes with owners here send both tokens in one header', async () => {
    const second = createSandbox({ driver: fakeDriver().driver })
    const undo = [stampOutgoingRequests(sandbox), stampOutgoingRequests(second)]
    try {
      await sandbox.run(() =>
        second.run(async () => {
          const tokens = String(await CLIENTS.fetch()).split(', ')
          expect(tokens).toHaveLength(2)
          for (const token of tokens) expect(token).toMatch(TOKEN)
        }),
      )
    } finally {
      for (const done of undo) done()
      await second.close()
    }
  })

  test('the undo puts node:http back as it was', () => {
    const before = (http.Agent.prototype as unknown as { addRequest: unknown }).addRequest
    const undo = stampOutgoingRequests(sandbox)
    expect((http.Agent.prototype as unknown as { addRequest: unknown }).addRequest).not.toBe(before)
    undo()
    expect((http.Agent.prototype as unknown as { addRequest: unknown }).addRequest).toBe(before)
  })
})
