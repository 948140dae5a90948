import { docs, SandboxError } from '../../ownership/errors.js'

/** Hex digits of the fingerprint kept in a database's name. */
export const HASH_LENGTH = 12

/** The names of one fingerprint's databases, and how to recognise them among a server's. */
export interface DatabaseNames {
  prefix: string
  template: string
  worker(worker: number): string
  /** The fingerprint a database of this prefix was made for, or undefined: not one of ours. */
  fingerprintOf(name: string): string | undefined
}

/**
 * `<prefix>_tpl_<hash>` for the template, `<prefix>_<hash>_w<n>` for worker n, and
 * `<prefix>_<hash>_s<i>_w<n>` for worker n of CI shard i (shards may share one server).
 */
export function databaseNames(
  prefix: string,
  hash: string,
  maxLength: number,
  shard?: number,
): DatabaseNames {
  checkPrefix(prefix, maxLength)
  const fingerprint = hash.slice(0, HASH_LENGTH)
  const shardPart = shard === undefined ? '' : `_s${shard}`
  const ours = new RegExp(
    `^${prefix}_(?:tpl_([0-9a-f]{${HASH_LENGTH}})|([0-9a-f]{${HASH_LENGTH}})_(?:s\\d+_)?w\\d+)$`,
  )
  return {
    prefix,
    template: `${prefix}_tpl_${fingerprint}`,
    worker(worker) {
      if (!Number.isInteger(worker) || worker < 1) {
        throw new SandboxError(
          'INVALID_OPTION',
          `A worker number is a positive integer, not ${worker}.`,
        )
      }
      const name = `${prefix}_${fingerprint}${shardPart}_w${worker}`
      if (name.length > maxLength) throw tooLong(name, maxLength)
      return name
    },
    fingerprintOf(name) {
      const match = ours.exec(name)
      return match ? (match[1] ?? match[2]) : undefined
    },
  }
}

/** The prefix when none is given: the URL's database name, made safe for an identifier. */
export function defaultPrefix(url: string): string {
  const database = decodeURIComponent(new URL(url).pathname.slice(1))
  const safe = database.toLowerCase().replace(/[^a-z0-9_]/g, '_')
  return safe === '' ? 'sqlsandbox' : safe
}

function checkPrefix(prefix: string, maxLength: number): void {
  if (!/^[a-z0-9_]+$/.test(prefix)) {
    throw new SandboxError(
      'INVALID_OPTION',
      `The template database prefix "${prefix}" may hold only lower-case letters, digits and ` +
        `underscores (it starts the names of the databases created). ${docs('template-databases')}`,
    )
  }
  // The longest name made from it: a shard and worker number of up to three digits each.
  const longest = `${prefix}_${'0'.repeat(HASH_LENGTH)}_s000_w000`
  if (longest.length > maxLength) throw tooLong(longest, maxLength)
}

function tooLong(name: string, maxLength: number): SandboxError {
  return new SandboxError(
    'INVALID_OPTION',
    `The database name "${name}" would be longer than the ${maxLength} characters the server ` +
      `allows: give a shorter prefix (the prefix option). ${docs('template-databases')}`,
  )
}
