import nodemailer from 'nodemailer'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { createSandbox, isSandboxError, type Sandbox } from '../../src/index.js'
import {
  type Isolator,
  isolate,
  isolateMethod,
  isolateNodemailer,
} from '../../src/integrations/isolator.js'
import { DIALECTS, type RawFacade, type TestDialect } from '../support/dialects.js'
import { recordingSmtpServer } from '../support/side-effect-servers.js'

function codeOf(error: unknown): string | undefined {
  return isSandboxError(error) ? error.code : undefined
}

describe.each(DIALECTS.map((make) => [make().name, make] as const))(
  'isolator adapters on %s',
  (_, make) => {
    let db: TestDialect
    let sandbox: Sandbox
    let pool: RawFacade
    let smtp: Awaited<ReturnType<typeof recordingSmtpServer>>
    let isolator: Isolator | undefined
    const undo: Array<() => void> = []

    beforeAll(async () => {
      db = make()
      sandbox = createSandbox({ driver: db.driver() })
      pool = db.facade(sandbox)
      smtp = await recordingSmtpServer()
    })
    afterEach(() => {
      isolator?.stop()
      isolator = undefined
      for (const fn of undo.splice(0)) fn()
    })
    afterAll(async () => {
      await sandbox.close()
      await db.end()
      await smtp.close()
    })

    function inTransaction<T>(fn: () => Promise<T>): Promise<T> {
      return sandbox.run(async () => {
        const client = await pool.lease()
        await client.query('begin')
        try {
          return await fn()
        } finally {
          await client.query('commit')
          client.release()
        }
      })
    }

    const transporter = () =>
      nodemailer.createTransport({
        host: '127.0.0.1',
        port: smtp.port,
        secure: false,
        ignoreTLS: true,
      })
    const mail = {
      from: 'shop@example.com',
      to: 'ada@example.com',
      subject: 'Your order',
      text: 'hi',
    }

    test('nodemailer: sendMail inside a transaction rejects, names the mail, and sends nothing; after the commit it is sent', async () => {
      isolator = isolate()
      const mailer = transporter()
      undo.push(isolateNodemailer(mailer))
      const before = smtp.messages.length
      const error = await inTransaction(() =>
        mailer.sendMail(mail).then(
          () => undefined,
          (e: unknown) => e,
        ),
      )
      expect(codeOf(error)).toBe('SIDE_EFFECT_IN_TRANSACTION')
      expect((error as Error).message).toContain('send an email')
      expect((error as Error).message).toContain('"Your order" to ada@example.com')
      await sandbox.run(() => mailer.sendMail(mail))
      expect(smtp.messages.length).toBe(before + 1)
      mailer.close()
    })

    test('nodemailer: with a callback, the callback gets the error', async () => {
      isolator = isolate()
      const mailer = transporter()
      undo.push(isolateNodemailer(mailer))
      const error = await inTransaction(
        () => new Promise((resolve) => mailer.sendMail(mail, (e) => resolve(e))),
      )
      expect(codeOf(error)).toBe('SIDE_EFFECT_IN_TRANSACTION')
      mailer.close()
    })

    test('nodemailer: allowed by adapter name', async () => {
      isolator = isolate({ allow: { adapters: ['nodemailer'], hosts: ['127.0.0.1'] } })
      const mailer = transporter()
      undo.push(isolateNodemailer(mailer))
      const info = await inTransaction(() => mailer.sendMail(mail))
      expect(info.accepted).toEqual(['ada@example.com'])
      mailer.close()
    })

    test("isolateMethod: an app's own class, as Isolator.isolate; the undo puts the method back", async () => {
      isolator = isolate()
      class Jobs {
        enqueued: string[] = []
        async add(name: string) {
          this.enqueued.push(name)
        }
      }
      const restore = isolateMethod(Jobs.prototype, 'add', {
        sideEffect: 'job',
        adapter: 'jobs',
        fails: 'reject',
        describe: ([name]) => `job ${String(name)}`,
      })
      const jobs = new Jobs()
      const error = await inTransaction(() =>
        jobs.add('charge').then(
          () => undefined,
          (e: unknown) => e,
        ),
      )
      expect(codeOf(error)).toBe('SIDE_EFFECT_IN_TRANSACTION')
      expect((error as Error).message).toContain(
        'enqueue a background job inside a database transaction: job charge',
      )
      expect(jobs.enqueued).toEqual([])
      expect(() =>
        isolateMethod(Jobs.prototype, 'add', { sideEffect: 'job', adapter: 'jobs' }),
      ).toThrow(/isolated already/)
      restore()
      await inTransaction(() => jobs.add('charge'))
      expect(jobs.enqueued).toEqual(['charge'])
    })
  },
)
