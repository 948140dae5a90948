/**
 * What template databases need of a server, one implementation per database (postgres/,
 * mysql/): a few administrative statements over one connection of its own, never the sandbox's
 * pool. Names passed in are already checked (letters, digits, underscores; within the length).
 */
export interface TemplateServer {
  /** 'PostgreSQL 15.20', 'MariaDB 10.11.6': for messages. */
  readonly label: string
  /** The longest database name the server takes. */
  readonly maxNameLength: number
  /** The URL of `database` on this server, with the same user and settings. */
  urlOf(database: string): string
  /**
   * Takes the server-wide lock `key`, waiting at most `timeoutMs` for another process that holds
   * it; then `TEMPLATE_BUSY`, naming the holder's session.
   */
  lock(key: string, timeoutMs: number): Promise<void>
  unlock(key: string): Promise<void>
  /** The databases whose names start with `prefix`, each with its marker (none: undefined). */
  databases(prefix: string): Promise<Array<{ name: string; marker: string | undefined }>>
  /** Creates an empty database. */
  create(name: string): Promise<void>
  /** Records `marker` on the database (a comment): a database is complete once marked. */
  mark(name: string, marker: string): Promise<void>
  /**
   * Creates `target` as a copy of `template`. `TEMPLATE_IN_USE` naming the sessions when another
   * session on the template prevents it; `TEMPLATE_NOT_COPYABLE` naming what cannot be copied.
   * Resolves to how it copied (PostgreSQL's strategy, MariaDB's method), for the report.
   */
  clone(template: string, target: string): Promise<string>
  /** The sessions connected to `database` other than this one, described for a message. */
  sessionsOn(database: string): Promise<string[]>
  /**
   * Opens a connection of its own to `database` and keeps it until the returned function is
   * called: the sign, for other runs, that the database is in use (they do not drop it).
   */
  lease(database: string): Promise<() => Promise<void>>
  /** Drops the database if it exists. */
  drop(name: string): Promise<void>
  /** How many more connections the server (and this user) will accept, and why. */
  connectionBudget(): Promise<ConnectionBudget>
  close(): Promise<void>
}

/** The connections a server has left, and the arithmetic behind it for a message. */
export interface ConnectionBudget {
  /** How many more connections this user may open now. */
  free: number
  /** e.g. 'max_connections 100 − superuser_reserved_connections 3 − 12 in use' */
  arithmetic: string
  /** How to raise the limit that binds, in the server's own words. */
  raise: string
}
