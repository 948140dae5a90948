import { createHash } from 'node:crypto'
import { readdir, readFile, stat } from 'node:fs/promises'
import { join, relative, resolve } from 'node:path'
import { docs, SandboxError } from '../../ownership/errors.js'

/** What a template is built from: when any of it changes, so does the fingerprint. */
export interface FingerprintInputs {
  /** Files and folders (read whole, recursively) of migrations, schema and seeds. */
  files: readonly string[]
  /** A version you bump when the build changes in a way the files do not show. */
  version?: string | undefined
  /** The functions that build the template: their source counts too. */
  functions: ReadonlyArray<((...args: never[]) => unknown) | undefined>
  /** Where relative paths start (default: the current directory). */
  root?: string | undefined
}

/**
 * A sha-256 over the build's inputs: each file's path (relative to the root, so checkouts in
 * different folders agree) and content, in path order, the version, and the functions' source.
 */
export async function templateFingerprint(inputs: FingerprintInputs): Promise<string> {
  const root = resolve(inputs.root ?? process.cwd())
  const files = (await Promise.all(inputs.files.map((file) => filesUnder(resolve(root, file)))))
    .flat()
    .sort()
  const hash = createHash('sha256').update('sqlsandbox templates 1\0')
  hash.update(`version\0${inputs.version ?? ''}\0`)
  for (const fn of inputs.functions) hash.update(`function\0${fn ? String(fn) : ''}\0`)
  for (const file of [...new Set(files)]) {
    hash.update(`file\0${relative(root, file).split('\\').join('/')}\0`)
    hash.update(await readFile(file))
    hash.update('\0')
  }
  return hash.digest('hex')
}

async function filesUnder(path: string): Promise<string[]> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error
    throw new SandboxError(
      'INVALID_OPTION',
      `The template's files include ${path}, which does not exist: a file that is not read ` +
        'cannot change the fingerprint, so a changed migration would go unnoticed. Fix the ' +
        `path in the files option (relative paths start at ${process.cwd()}). ${docs('template-databases')}`,
    )
  })
  if (!info.isDirectory()) return [path]
  const entries = await readdir(path, { withFileTypes: true })
  const nested = await Promise.all(
    entries
      .filter((entry) => entry.name !== 'node_modules' && !entry.name.startsWith('.'))
      .map((entry) => filesUnder(join(path, entry.name))),
  )
  return nested.flat()
}
