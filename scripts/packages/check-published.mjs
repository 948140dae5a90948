// Checks one package as the registry serves it (its tarball, unpacked) against the workspace
// package it was published from: what npm and pnpm users will install, not what is on disk.
// Usage: node scripts/packages/check-published.mjs <unpacked tarball dir> <workspace package dir>
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

const DEPENDENCY_FIELDS = [
  'dependencies',
  'peerDependencies',
  'optionalDependencies',
  'devDependencies',
]

const [published, workspace] = process.argv.slice(2).map((path) => resolve(path))
if (!published || !workspace) {
  console.error('usage: check-published.mjs <unpacked tarball dir> <workspace package dir>')
  process.exit(2)
}

const manifest = readJson(join(published, 'package.json'))
const source = readJson(join(workspace, 'package.json'))
const root = resolve(workspace, '../..')
const problems = [
  ...versionProblems(),
  ...dependencyProblems(),
  ...metadataProblems(),
  ...shippedFileProblems(),
  ...sourceMapProblems(),
]

if (problems.length > 0) {
  console.error(`${manifest.name}@${manifest.version} as published is not what users need:`)
  for (const problem of problems) console.error(`  - ${problem}`)
  process.exit(1)
}
const siblings = DEPENDENCY_FIELDS.flatMap((field) =>
  Object.entries(manifest[field] ?? {})
    .filter(([name]) => name.startsWith('@sqlsandbox/'))
    .map(([name, range]) => `${field}.${name} "${range}"`),
)
console.log(
  `${manifest.name}@${manifest.version}: manifest, files and source maps as published: ok` +
    (siblings.length > 0 ? ` (${siblings.join(', ')})` : ''),
)

function versionProblems() {
  return manifest.version === source.version
    ? []
    : [
        `version ${manifest.version}, the workspace has ${source.version}: publish from a clean build`,
      ]
}

// pnpm publish must rewrite workspace: ranges; a sibling must be named at its published version.
function dependencyProblems() {
  const problems = []
  for (const field of DEPENDENCY_FIELDS) {
    for (const [name, range] of Object.entries(manifest[field] ?? {})) {
      if (range.startsWith('workspace:')) {
        problems.push(
          `${field}.${name} is "${range}": npm cannot install it. Publish with pnpm publish, which rewrites workspace: ranges`,
        )
      } else if (name.startsWith('@sqlsandbox/')) {
        const sibling = readJson(
          join(root, 'packages', name.slice('@sqlsandbox/'.length), 'package.json'),
        )
        if (range !== sibling.version && range !== `^${sibling.version}`) {
          problems.push(
            `${field}.${name} is "${range}", not ${sibling.version} or ^${sibling.version}, the version published with it`,
          )
        }
      }
    }
  }
  return problems
}

function metadataProblems() {
  const problems = []
  const rootRepository = readJson(join(root, 'package.json')).repository?.url
  const directory = relative(root, workspace)
  if (manifest.repository?.url !== rootRepository || manifest.repository?.directory !== directory) {
    problems.push(
      `repository is ${JSON.stringify(manifest.repository)}: set { url: "${rootRepository}" (the root package.json's), directory: "${directory}" }`,
    )
  }
  for (const field of ['description', 'license', 'homepage', 'bugs']) {
    if (!manifest[field]) problems.push(`no "${field}" in package.json`)
  }
  if (!(manifest.keywords?.length > 0)) problems.push('no "keywords" in package.json')
  return problems
}

function shippedFileProblems() {
  const problems = []
  if (!existsSync(join(published, 'README.md'))) problems.push('no README.md in the tarball')
  if (!existsSync(join(published, 'LICENSE'))) problems.push('no LICENSE in the tarball')
  const changelog = join(published, 'CHANGELOG.md')
  if (!existsSync(changelog)) {
    problems.push('no CHANGELOG.md in the tarball: add it to "files"')
  } else if (!readFileSync(changelog, 'utf8').includes(`## ${manifest.version}`)) {
    problems.push(`CHANGELOG.md has no "## ${manifest.version}" section`)
  }
  return problems
}

// src is shipped for the source maps and declaration maps: each must find its sources.
function sourceMapProblems() {
  const problems = []
  for (const map of filesUnder(published).filter((file) => file.endsWith('.map'))) {
    for (const sourcePath of readJson(map).sources ?? []) {
      if (!existsSync(resolve(dirname(map), sourcePath))) {
        problems.push(`${relative(published, map)} points at ${sourcePath}, which is not shipped`)
      }
    }
  }
  return problems
}

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  )
}

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'))
}
