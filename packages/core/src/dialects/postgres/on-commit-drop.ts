import { isKeyword, skipTrivia, tokenEnd } from '../../statements/split.js'

const PG = 'postgres'
const DOT = 46

/** Cheap test first: nearly no statement has the clause. */
const ON_COMMIT_DROP = /on\s+commit\s+drop/i

/**
 * The table a `CREATE TEMP TABLE … ON COMMIT DROP` creates, as the text names it (quotes kept),
 * schema-qualified with pg_temp when it is not: production drops it at the COMMIT, and inside
 * the sandbox that COMMIT is a RELEASE, which keeps it (a second app transaction creating it
 * again fails, 42P07). Undefined for every other statement.
 */
export function onCommitDropTable(text: string): string | undefined {
  if (!ON_COMMIT_DROP.test(text)) return undefined
  let pos = skipTrivia(text, 0, PG)
  const word = () => {
    const end = tokenEnd(text, pos, PG)
    const token = { start: pos, end }
    pos = skipTrivia(text, end, PG)
    return token
  }
  const is = (token: { start: number; end: number }, keyword: string) =>
    isKeyword(text, token.start, token.end, keyword)
  if (!is(word(), 'CREATE')) return undefined
  let next = word()
  if (is(next, 'GLOBAL') || is(next, 'LOCAL')) next = word()
  if (!is(next, 'TEMP') && !is(next, 'TEMPORARY')) return undefined
  if (!is(word(), 'TABLE')) return undefined
  let name = word()
  if (is(name, 'IF')) {
    if (!is(word(), 'NOT') || !is(word(), 'EXISTS')) return undefined
    name = word()
  }
  const parts = [text.slice(name.start, name.end)]
  while (text.charCodeAt(pos) === DOT) {
    pos = skipTrivia(text, pos + 1, PG)
    const part = word()
    parts.push(text.slice(part.start, part.end))
  }
  if (
    parts.some((part) => !/^("(?:[^"]|"")+"|[A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*)$/.test(part))
  ) {
    return undefined
  }
  return parts.length === 1 ? `pg_temp.${parts[0]}` : parts.join('.')
}
