// Type-checks an installed app with skipLibCheck off, so that the declarations of @sqlsandbox/*
// are compiled too (with skipLibCheck, the usual setting, an error inside them goes unseen).
// drizzle-orm 0.45's own declarations do not compile that way (Drizzle's docs set skipLibCheck):
// errors there are counted and allowed; any other error fails.
// Usage: node scripts/packages/check-declarations.mjs <app dir>
import { spawnSync } from 'node:child_process'
import { join, resolve } from 'node:path'

const ALLOWED = /(^|\/)node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?drizzle-orm\//
const ERROR_LINE = /^(.+?)\(\d+,\d+\): error TS\d+/

const app = resolve(process.argv[2] ?? '.')
const tsc = spawnSync(
  process.execPath,
  [
    join(app, 'node_modules/typescript/bin/tsc'),
    '-p',
    'tsconfig.json',
    '--skipLibCheck',
    'false',
    '--pretty',
    'false',
  ],
  { cwd: app, encoding: 'utf8', timeout: 300_000 },
)
if (tsc.error) throw tsc.error
const lines = `${tsc.stdout}${tsc.stderr}`.split('\n')
const errors = lines.filter((line) => ERROR_LINE.test(line))
const allowed = errors.filter((line) => ALLOWED.test(line.match(ERROR_LINE)[1]))
const others = errors.filter((line) => !allowed.includes(line))

if (others.length > 0 || (tsc.status !== 0 && errors.length === 0)) {
  console.error(`tsc --skipLibCheck false in ${app} failed outside drizzle-orm's declarations:`)
  console.error(others.length > 0 ? others.join('\n') : lines.join('\n'))
  process.exit(1)
}
console.log(
  `declarations compile with skipLibCheck off: @sqlsandbox/*, the app and every other library ` +
    `(${allowed.length} errors in drizzle-orm's own declarations, allowed)`,
)
