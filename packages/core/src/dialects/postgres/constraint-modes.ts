import type pg from 'pg'
import { isKeyword, skipTrivia, tokenEnd } from '../../statements/split.js'

/**
 * Deferred constraints (DEFERRABLE INITIALLY DEFERRED foreign keys, deferrable constraint
 * triggers) are checked at COMMIT, and inside the test's transaction nothing commits. So the
 * test's BEGIN sends this: outside app transactions every check runs at its statement's end,
 * where production's autocommit would commit it, with nothing more per write. An app COMMIT
 * sends it before its RELEASE: the pending checks run there (a violation fails the COMMIT), and
 * the modes are immediate again after it, as the test's transaction has them.
 *
 * Not a throwaway savepoint rolled back after the checks: rolling back a subtransaction marks
 * the trigger events it fired as not fired, so every later check ran all of them again.
 */
export const ALL_IMMEDIATE = 'SET CONSTRAINTS ALL IMMEDIATE'

/**
 * The deferrable constraints by schema-qualified name: whether each of that name is INITIALLY
 * DEFERRED (`by_name`: `SET CONSTRAINTS name …` sets every constraint of a name in its schema,
 * and refuses if one is not deferrable), and whether each deferrable one is (`deferred`). Other
 * sessions' temporary schemas are left out: they vanish.
 */
const DEFERRABLE_CONSTRAINTS = `SELECT format('%I.%I', n.nspname, c.conname) AS name,
  bool_and(c.condeferred) AS by_name,
  bool_and(c.condeferred OR NOT c.condeferrable) AS deferred
FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
WHERE n.nspname NOT LIKE 'pg\\_%temp\\_%' OR n.oid = pg_my_temp_schema()
GROUP BY n.nspname, c.conname
HAVING bool_or(c.condeferrable)
ORDER BY 1`

export interface DeferrableName {
  name: string
  by_name: boolean
  deferred: boolean
}

/**
 * `SET CONSTRAINTS ALL DEFERRED` where every deferrable constraint is INITIALLY DEFERRED (Django
 * declares every foreign key so: one short statement, whatever the schema's size); otherwise the
 * INITIALLY DEFERRED ones by name. A name shared with a constraint that is not INITIALLY
 * DEFERRED cannot be set alone: it stays immediate (stricter than production).
 */
export function declaredModesStatements(names: readonly DeferrableName[]): string[] {
  if (names.length === 0) return []
  if (names.every((name) => name.deferred)) return ['SET CONSTRAINTS ALL DEFERRED']
  const deferred = names.filter((name) => name.by_name).map((name) => name.name)
  return deferred.length > 0 ? [`SET CONSTRAINTS ${deferred.join(', ')} DEFERRED`] : []
}

interface Declared {
  statements: readonly string[]
  /** The schema generation it was read at. */
  generation: number
}

const declaredOn = new WeakMap<pg.Client, Declared>()
/**
 * Connections that ran DDL in their current owner's transaction: a rollback (the app's, a
 * nested owner's, the test's) may take it back, so they read again at every app BEGIN until
 * that transaction ends.
 */
const changingSchema = new WeakSet<pg.Client>()
/** Moves on with DDL seen on any connection of this process: the others read again once. */
let generation = 0

/**
 * What gives an app transaction's savepoint the modes production's BEGIN gives a transaction
 * (see declaredModesStatements), or nothing. Read once per connection (one round trip, at its
 * first app BEGIN), then cached until DDL is seen.
 */
export function declaredModes(client: pg.Client): readonly string[] | Promise<readonly string[]> {
  return cachedModes(client) ?? readDeclaredModes(client)
}

/** The declared modes if they are known and current for `client`, without reading them. */
export function cachedModes(client: pg.Client): readonly string[] | undefined {
  const declared = declaredOn.get(client)
  if (declared && declared.generation === generation && !changingSchema.has(client)) {
    return declared.statements
  }
  return undefined
}

async function readDeclaredModes(client: pg.Client): Promise<readonly string[]> {
  const readAt = generation
  const { rows } = await client.query<DeferrableName>(DEFERRABLE_CONSTRAINTS)
  const statements = declaredModesStatements(rows)
  declaredOn.set(client, { statements, generation: readAt })
  return statements
}

/**
 * The declared modes failed: a constraint was dropped (42704), or a name now also belongs to a
 * constraint that is not deferrable (42809), by DDL this process did not see. Read them again.
 */
export function staleModes(client: pg.Client, error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code
  if (code !== '42704' && code !== '42809') return false
  declaredOn.delete(client)
  return true
}

/** A statement about to run on `client`: DDL makes the cached modes old. */
export function noteSchemaChange(client: pg.Client, text: unknown): void {
  if (typeof text !== 'string' || !changesSchema(text)) return
  generation++
  changingSchema.add(client)
}

/** The owner's transaction on `client` ended (rolled back): so did its DDL. */
export function schemaSessionEnded(client: pg.Client): void {
  if (changingSchema.delete(client)) declaredOn.delete(client)
}

const DDL = ['CREATE', 'ALTER', 'DROP']
const LOWER_CASE = 0x20
const [C, A, D] = ['c', 'a', 'd'].map((letter) => letter.charCodeAt(0))

/** Whether a statement may change constraints, by its first word (every statement asks). */
export function changesSchema(text: string): boolean {
  const start = skipTrivia(text, 0, 'postgres')
  const first = text.charCodeAt(start) | LOWER_CASE
  if (first !== C && first !== A && first !== D) return false
  const end = tokenEnd(text, start, 'postgres')
  return DDL.some((word) => isKeyword(text, start, end, word))
}
