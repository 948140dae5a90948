export type InitErrorCode =
  | 'USAGE'
  | 'NO_PACKAGE_JSON'
  | 'SEVERAL_ORMS'
  | 'SEVERAL_DATABASES'
  | 'NO_DATABASE'
  | 'FILES_EXIST'

const README = 'https://github.com/sqlsandbox/sqlsandbox#set-up-in-one-command'

/**
 * Why `sqlsandbox init` stopped before writing anything: what it found, why it cannot go on, and
 * the flag or step that gets past it. The command prints the message and exits with status 1.
 */
export class InitError extends Error {
  readonly code: InitErrorCode

  constructor(code: InitErrorCode, message: string) {
    super(`${message}\n(${README})`)
    this.name = 'InitError'
    this.code = code
  }
}
