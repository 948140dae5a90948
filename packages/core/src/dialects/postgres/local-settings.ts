import { isKeyword, skipTrivia, tokenEnd } from '../../statements/split.js'

const PG = 'postgres'
const OPEN_PAREN = 40
const CLOSE_PAREN = 41
const COMMA = 44
const DOT = 46
const COLON = 58

/** Cheap test first: nearly no statement mentions set_config, and the scan below reads every token. */
const MENTIONS_SET_CONFIG = /set_config/i

/** `SET LOCAL` forms that name their setting with keywords. */
const KEYWORD_SETTINGS: Array<[string[], string]> = [
  [['TIME', 'ZONE'], 'timezone'],
  [['ROLE'], 'role'],
  [['SCHEMA'], 'search_path'],
  [['SESSION', 'AUTHORIZATION'], 'session_authorization'],
  [['NAMES'], 'client_encoding'],
  [['XML', 'OPTION'], 'xmloption'],
]

/** Set for a transaction only by what begins it: a statement changing them fails on its own. */
const NOT_TRACKED = new Set([
  'transaction_isolation',
  'transaction_read_only',
  'transaction_deferrable',
])

/**
 * The settings a PostgreSQL statement sets until the end of the current transaction only:
 * `SET LOCAL name …` and `set_config(name, value, true)` calls whose name and third argument are
 * literals or parameters (`$1`). Inside the sandbox the app's transaction is a savepoint, and a
 * RELEASE keeps such settings for the rest of the test; knowing the names, the router puts them
 * back at the app's COMMIT. Undefined when there are none (nearly every statement).
 */
export function transactionLocalSettings(
  text: string,
  values?: readonly unknown[],
): string[] | undefined {
  const names: string[] = []
  const start = skipTrivia(text, 0, PG)
  const local = setLocalName(text, start)
  if (local) names.push(local)
  else if (MENTIONS_SET_CONFIG.test(text)) names.push(...setConfigNames(text, start, values))
  const tracked = names.filter((name) => !NOT_TRACKED.has(name))
  return tracked.length > 0 ? [...new Set(tracked)] : undefined
}

/**
 * The statement that gives each setting back the value it had before (`null`: a custom setting
 * that did not exist, which reads as '' once a transaction set it, as it does in production).
 * E'' literals read the same whatever standard_conforming_strings says.
 */
export function restoreSettingsStatement(before: ReadonlyMap<string, string | null>): string {
  const calls = [...before].map(
    ([name, value]) => `set_config(${literal(name)}, ${literal(value ?? '')}, true)`,
  )
  return `SELECT ${calls.join(', ')}`
}

function literal(value: string): string {
  return `E'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`
}

function setLocalName(text: string, start: number): string | undefined {
  let end = tokenEnd(text, start, PG)
  if (!isKeyword(text, start, end, 'SET')) return undefined
  let pos = skipTrivia(text, end, PG)
  end = tokenEnd(text, pos, PG)
  if (!isKeyword(text, pos, end, 'LOCAL')) return undefined
  pos = skipTrivia(text, end, PG)
  for (const [keywords, name] of KEYWORD_SETTINGS) {
    let at = pos
    const matched = keywords.every((keyword) => {
      const wordEnd = tokenEnd(text, at, PG)
      if (!isKeyword(text, at, wordEnd, keyword)) return false
      at = skipTrivia(text, wordEnd, PG)
      return true
    })
    if (matched) return name
  }
  return qualifiedName(text, pos)
}

/** `app.tenant`, `"app"."tenant"`, `statement_timeout`: as the server folds it. */
function qualifiedName(text: string, pos: number): string | undefined {
  const parts: string[] = []
  for (;;) {
    const end = tokenEnd(text, pos, PG)
    const part = identifier(text, pos, end)
    if (part === undefined) return undefined
    parts.push(part)
    const next = skipTrivia(text, end, PG)
    if (text.charCodeAt(next) !== DOT) return parts.join('.')
    pos = skipTrivia(text, next + 1, PG)
  }
}

function identifier(text: string, start: number, end: number): string | undefined {
  const token = text.slice(start, end)
  if (token.startsWith('"')) return token.slice(1, -1).replace(/""/g, '"')
  return /^[A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*$/.test(token) ? token.toLowerCase() : undefined
}

/** Every `set_config(name, value, is_local)` call outside strings and comments, is_local true. */
function setConfigNames(text: string, start: number, values?: readonly unknown[]): string[] {
  const names: string[] = []
  for (let pos = start; pos < text.length; ) {
    const end = tokenEnd(text, pos, PG)
    if (isKeyword(text, pos, end, 'SET_CONFIG')) {
      const open = skipTrivia(text, end, PG)
      if (text.charCodeAt(open) === OPEN_PAREN) {
        const args = readArguments(text, open + 1)
        const name = args.length === 3 ? argumentValue(text, args[0]!, values) : undefined
        const local = args.length === 3 ? argumentValue(text, args[2]!, values) : undefined
        if (typeof name === 'string' && isTrue(local)) names.push(name)
      }
    }
    pos = skipTrivia(text, end, PG)
  }
  return names
}

type Range = [start: number, end: number]

/** The top-level arguments of a call whose `(` ends just before `pos`, as token ranges. */
function readArguments(text: string, pos: number): Range[] {
  const args: Range[] = []
  let depth = 0
  let first = -1
  let last = -1
  for (pos = skipTrivia(text, pos, PG); pos < text.length; pos = skipTrivia(text, pos, PG)) {
    const code = text.charCodeAt(pos)
    const end = tokenEnd(text, pos, PG)
    if (depth === 0 && (code === COMMA || code === CLOSE_PAREN)) {
      if (first >= 0) args.push([first, last])
      if (code === CLOSE_PAREN) return args
      first = -1
    } else {
      if (code === OPEN_PAREN) depth++
      else if (code === CLOSE_PAREN) depth--
      if (first < 0) first = pos
      last = end
    }
    pos = end
  }
  return [] // unterminated: the server will say so
}

/** A literal string or boolean, or a parameter's value, with an optional `::type` cast; else undefined. */
function argumentValue(text: string, [start, end]: Range, values?: readonly unknown[]): unknown {
  const tokenStop = tokenEnd(text, start, PG)
  const rest = skipTrivia(text, tokenStop, PG)
  if (rest < end && !isCast(text, rest, end)) return undefined
  const token = text.slice(start, tokenStop)
  if (token.startsWith("'")) return token.slice(1, -1).replace(/''/g, "'")
  if (/^[Ee]'/.test(token)) {
    return token.slice(2, -1).replace(/''/g, "'").replace(/\\(.)/g, '$1')
  }
  if (/^\$\d+$/.test(token)) {
    const value = values?.[Number(token.slice(1)) - 1]
    return typeof value === 'string' || typeof value === 'boolean' ? value : undefined
  }
  if (isKeyword(text, start, tokenStop, 'TRUE')) return true
  if (isKeyword(text, start, tokenStop, 'FALSE')) return false
  return undefined
}

/** `::text`, `::boolean`, `:: pg_catalog.text`: a cast to a named type and nothing else. */
function isCast(text: string, pos: number, end: number): boolean {
  if (text.charCodeAt(pos) !== COLON || text.charCodeAt(pos + 1) !== COLON) return false
  const name = skipTrivia(text, pos + 2, PG)
  return name < end && qualifiedName(text, name) !== undefined && castEnd(text, name) >= end
}

function castEnd(text: string, pos: number): number {
  for (;;) {
    const end = tokenEnd(text, pos, PG)
    const next = skipTrivia(text, end, PG)
    if (text.charCodeAt(next) !== DOT) return end
    pos = skipTrivia(text, next + 1, PG)
  }
}

/** PostgreSQL's boolean input: true, yes, on, 1 (and their prefixes the server takes). */
function isTrue(value: unknown): boolean {
  if (value === true) return true
  if (typeof value !== 'string') return false
  const word = value.trim().toLowerCase()
  return ['t', 'tr', 'tru', 'true', 'y', 'ye', 'yes', 'on', '1'].includes(word)
}
