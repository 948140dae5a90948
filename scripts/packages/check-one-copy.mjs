// In an installed app: each package that an @sqlsandbox package depends on or peers with (pg,
// mysql2, drizzle-orm, knex, @prisma/*, @sqlsandbox/core) must be the app's own copy. A second
// copy breaks at run time (Prisma's adapter checks `instanceof pg.Pool`) and in types (the app's
// drizzle `db` type is not @sqlsandbox/drizzle's): what `file:` links gave before.
// Usage: node scripts/packages/check-one-copy.mjs <app dir>
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'

const app = resolve(process.argv[2] ?? '.')
const scopeDir = join(app, 'node_modules', '@sqlsandbox')
if (!existsSync(scopeDir)) {
  console.error(`${app} has no node_modules/@sqlsandbox: install the packages first`)
  process.exit(2)
}

const problems = []
const checked = new Set()
for (const entry of readdirSync(scopeDir)) {
  const packageDir = realpathSync(join(scopeDir, entry))
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'))
  const wanted = { ...manifest.dependencies, ...manifest.peerDependencies }
  for (const name of Object.keys(wanted)) {
    const appCopy = installedDir(app, name)
    if (!appCopy) continue // an optional peer this app does not use
    const packageCopy = installedDir(packageDir, name)
    checked.add(name)
    if (packageCopy !== appCopy) {
      problems.push(
        `${manifest.name} loads ${name} from ${packageCopy ?? 'nowhere'}, the app from ${appCopy}: two copies. ` +
          `Fix the ranges so that the package manager can dedupe ${name} (npm ls ${name} / pnpm why ${name}).`,
      )
    }
  }
}

if (problems.length > 0) {
  for (const problem of problems) console.error(problem)
  process.exit(1)
}
console.log(`one copy each, shared by the app and @sqlsandbox/*: ${[...checked].sort().join(', ')}`)

/** The directory Node would load `name` from, starting at `from`, symlinks resolved. */
function installedDir(from, name) {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name)
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate)
    if (dirname(dir) === dir) return undefined
  }
}
