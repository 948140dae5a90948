import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { InitError } from './init-error.js'
import type { PlannedFile } from './planned-files.js'

/**
 * Writes the files, or none of them when any already exists (unless `force`): init never
 * replaces a file the user may have edited without being told to.
 */
export function writeNewFiles(cwd: string, files: PlannedFile[], force: boolean): void {
  const existing = files.filter((file) => existsSync(join(cwd, file.path)))
  if (existing.length > 0 && !force) {
    throw new InitError(
      'FILES_EXIST',
      `These files already exist, so init wrote nothing:\n${existing
        .map((file) => `  ${file.path}`)
        .join(
          '\n',
        )}\nMove or delete them and run init again, or run it with --force to overwrite them.`,
    )
  }
  for (const file of files) {
    const path = join(cwd, file.path)
    mkdirSync(dirname(path), { recursive: true })
    // 'wx' also refuses a file that appeared since the check above
    writeFileSync(path, file.content, { flag: force ? 'w' : 'wx' })
  }
}
