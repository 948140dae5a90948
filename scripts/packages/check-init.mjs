// `npx @sqlsandbox/core init` as a new user runs it (issue #20): for each ORM × database, a new
// app that depends only on its ORM, its driver and vitest runs the published package's init,
// type-checks what it wrote (TypeScript apps), and passes the first test it wrote against the
// real server; a second init must refuse to overwrite and change nothing.
// The cells live inside an installed fresh app and resolve its node_modules: nothing more is
// installed. Databases: sqlsandbox_init_<orm>_<database> on the servers of SQLSANDBOX_PKG_PG_URL
// and SQLSANDBOX_PKG_MYSQL_URL, created when missing.
// Usage: node scripts/packages/check-init.mjs <installed app dir>
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'

const app = resolve(process.argv[2] ?? '.')
const bin = join(app, 'node_modules', '.bin')
if (!existsSync(join(bin, 'sqlsandbox'))) {
  console.error(`${app} has no node_modules/.bin/sqlsandbox: install @sqlsandbox/core there first`)
  process.exit(2)
}
const requireFromApp = createRequire(join(app, 'package.json'))
const SERVERS = {
  postgres:
    process.env.SQLSANDBOX_PKG_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/sqlsandbox_pkg_app',
  mysql: process.env.SQLSANDBOX_PKG_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/sqlsandbox_pkg_app',
}
const ORM_DEPENDENCIES = {
  drizzle: ['drizzle-orm'],
  knex: ['knex'],
  prisma: ['@prisma/client', 'prisma'],
  none: [],
}
const ORM_NAMES = { drizzle: 'Drizzle', knex: 'Knex', prisma: 'Prisma', none: 'no ORM' }

// The facade cells are JavaScript apps, one ESM and one CommonJS; the ORM cells TypeScript.
const cells = ['drizzle', 'knex', 'prisma', 'none'].flatMap((orm) =>
  ['postgres', 'mysql'].map((database) => ({
    orm,
    database,
    language: orm !== 'none' ? 'ts' : database === 'postgres' ? 'esm' : 'cjs',
    dir: join(app, 'init-cells', `${orm}-${database}`),
    url: withDatabase(SERVERS[database], `sqlsandbox_init_${orm}_${database}`),
  })),
)

const results = await Promise.allSettled(cells.map(checkCell))
const failed = results.flatMap((result, index) =>
  result.status === 'rejected' ? [`${name(cells[index])}: ${result.reason.message}`] : [],
)
if (failed.length > 0) {
  console.error(`init: ${failed.length} of ${cells.length} cells failed:\n${failed.join('\n\n')}`)
  process.exit(1)
}
console.log(
  `init: ${cells.length} apps (${cells.map(name).join(', ')}): init wrote, type-checked, first test passed, second init refused`,
)

async function checkCell(cell) {
  rmSync(cell.dir, { recursive: true, force: true })
  mkdirSync(cell.dir, { recursive: true })
  writeApp(cell)
  if (cell.orm === 'prisma') await generatePrismaClient(cell)
  await createDatabase(cell)

  const init = await run(cell, join(bin, 'sqlsandbox'), ['init'])
  expectIn(init, `sqlsandbox init: ${ORM_NAMES[cell.orm]}`, 'init names the ORM it detected')
  expectIn(init, '@sqlsandbox/core', 'init prints the install command for what is missing')
  if (cell.language === 'ts') await run(cell, join(bin, 'tsc'), ['-p', 'tsconfig.json'])
  const test = await run(cell, join(bin, 'vitest'), ['run'], { DATABASE_URL: cell.url })
  expectIn(test, '1 passed', 'vitest runs the first test and it passes')

  const before = readFileSync(join(cell.dir, 'test', `sandbox.test${extension(cell)}`), 'utf8')
  const again = await run(cell, join(bin, 'sqlsandbox'), ['init'], {}, 1)
  expectIn(again, 'already exist', 'a second init refuses to overwrite')
  const after = readFileSync(join(cell.dir, 'test', `sandbox.test${extension(cell)}`), 'utf8')
  if (after !== before) throw new Error('a second init changed test files it refused to overwrite')
}

function writeApp(cell) {
  const typescript = cell.language === 'ts'
  const dependencies = [
    ...ORM_DEPENDENCIES[cell.orm],
    cell.database === 'postgres' ? 'pg' : 'mysql2',
    ...(cell.orm === 'prisma' && cell.database === 'postgres' ? ['@prisma/adapter-pg'] : []),
  ]
  const devDependencies = [
    'vitest',
    ...(typescript ? ['typescript', '@types/node'] : []),
    ...(typescript && cell.database === 'postgres' ? ['@types/pg'] : []),
  ]
  const manifest = {
    name: `init-${cell.orm}-${cell.database}`,
    private: true,
    ...(cell.language === 'cjs' ? {} : { type: 'module' }),
    dependencies: versionsOf(dependencies),
    devDependencies: versionsOf(devDependencies),
  }
  writeFileSync(join(cell.dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
  if (typescript) {
    const compilerOptions = {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      types: ['node'],
      strict: true,
      skipLibCheck: true,
      noEmit: true,
    }
    const tsconfig = { compilerOptions, include: ['test', 'generated', 'vitest.config.ts'] }
    writeFileSync(join(cell.dir, 'tsconfig.json'), `${JSON.stringify(tsconfig, null, 2)}\n`)
  }
}

async function generatePrismaClient(cell) {
  mkdirSync(join(cell.dir, 'prisma'))
  writeFileSync(
    join(cell.dir, 'prisma', 'schema.prisma'),
    `generator client {
  provider     = "prisma-client"
  output       = "../generated/prisma"
  moduleFormat = "esm"
}

datasource db {
  provider = "${cell.database === 'postgres' ? 'postgresql' : 'mysql'}"
}

model Item {
  id   Int    @id @default(autoincrement())
  name String
}
`,
  )
  // generate needs no schema engine; unset, the CLI would try to download one
  await run(cell, join(bin, 'prisma'), ['generate'], {
    PRISMA_SCHEMA_ENGINE_BINARY: '/dev/null',
    CHECKPOINT_DISABLE: '1',
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  })
}

async function createDatabase(cell) {
  const database = new URL(cell.url).pathname.slice(1)
  if (cell.database === 'postgres') {
    const pg = requireFromApp('pg')
    const server = new pg.Client(withDatabase(cell.url, 'postgres'))
    await server.connect()
    try {
      const found = await server.query('select 1 from pg_database where datname = $1', [database])
      if (found.rowCount === 0) await server.query(`create database "${database}"`)
    } finally {
      await server.end()
    }
  } else {
    const mysql = requireFromApp('mysql2/promise')
    const server = await mysql.createConnection(withDatabase(cell.url, ''))
    try {
      await server.query(`create database if not exists \`${database}\``)
    } finally {
      await server.end()
    }
  }
}

/** Runs a command in the cell, bounded to 120 s; its output, or an error quoting it. */
function run(cell, command, args, env = {}, expectedStatus = 0) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      cwd: cell.dir,
      env: { ...process.env, ...env, CI: 'true', NO_COLOR: '1' },
      timeout: 120_000,
    })
    let output = ''
    child.stdout.on('data', (chunk) => {
      output += chunk
    })
    child.stderr.on('data', (chunk) => {
      output += chunk
    })
    child.on('error', reject)
    child.on('close', (status, signal) => {
      if (status === expectedStatus) resolvePromise(output)
      else {
        const how = signal ? `was killed (${signal})` : `exited with ${status}`
        reject(new Error(`${command} ${args.join(' ')} ${how}:\n${output.slice(-4000)}`))
      }
    })
  })
}

function expectIn(output, text, what) {
  if (!output.includes(text)) throw new Error(`${what}: no "${text}" in its output:\n${output}`)
}

function versionsOf(names) {
  const own = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'))
  const versions = { ...own.dependencies, ...own.devDependencies }
  return Object.fromEntries(names.map((dependency) => [dependency, versions[dependency] ?? '*']))
}

function extension(cell) {
  return { ts: '.ts', esm: '.js', cjs: '.mjs' }[cell.language]
}

function withDatabase(url, database) {
  const other = new URL(url)
  other.pathname = `/${database}`
  return other.toString()
}

function name(cell) {
  return `${cell.orm}×${cell.database}`
}
