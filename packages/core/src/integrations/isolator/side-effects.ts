/** What the isolator reports: a side effect production cannot take back if its transaction rolls back. */
export type SideEffectKind =
  | 'http'
  | 'socket'
  | 'child-process'
  | 'worker'
  | 'job'
  | 'mail'
  | 'cross-database'

export interface SideEffect {
  readonly kind: SideEffectKind
  /** What was about to happen, for the message: `POST http://127.0.0.1:4000/charge`. */
  readonly description: string
  /** For the allowlist: the host an HTTP request or a socket goes to. */
  readonly host?: string | undefined
  /** The adapter that saw it (`nodemailer`, `bullmq`, or a name given to `isolateMethod`). */
  readonly adapter?: string | undefined
}

/** Isolator's words for each kind (HTTPError, BackgroundJobError, MailerError). */
export const ATTEMPTS: Record<SideEffectKind, string> = {
  http: 'make an outgoing network request',
  socket: 'open a network connection',
  'child-process': 'start a child process',
  worker: 'start a worker thread',
  job: 'enqueue a background job',
  mail: 'send an email',
  'cross-database': 'open a transaction on another database',
}
