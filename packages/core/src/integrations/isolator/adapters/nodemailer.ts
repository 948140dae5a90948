import { isolateMethod } from '../isolate-method.js'

/** The part of a nodemailer transporter (`nodemailer.createTransport(…)`) the adapter needs. */
export interface NodemailerTransporter {
  sendMail(...args: never[]): unknown
}

/**
 * Opt-in: nodemailer's `sendMail` becomes a side effect the isolator reports inside an app
 * transaction (Isolator's MailerError). Pass any transporter: its class's prototype is wrapped,
 * so every transporter of the process is covered. The error goes to the callback when one is
 * given, else the returned promise rejects. Returns the undo.
 *
 * @example
 * const transporter = nodemailer.createTransport(smtpSettings)
 * isolateNodemailer(transporter)
 */
export function isolateNodemailer(transporter: NodemailerTransporter): () => void {
  const prototype = Object.getPrototypeOf(transporter) as NodemailerTransporter
  return isolateMethod(prototype, 'sendMail', {
    sideEffect: 'mail',
    adapter: 'nodemailer',
    fails: 'callback',
    describe: ([mail]) => `an email ${describeMail(mail)}through nodemailer`,
  })
}

function describeMail(mail: unknown): string {
  if (typeof mail !== 'object' || mail === null) return ''
  const { subject, to } = mail as { subject?: unknown; to?: unknown }
  const about = typeof subject === 'string' ? `"${subject}" ` : ''
  const recipients = typeof to === 'string' ? `to ${to} ` : ''
  return about + recipients
}
