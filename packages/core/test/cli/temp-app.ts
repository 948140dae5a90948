import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterEach } from 'vitest'

const made: string[] = []
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/**
 * A new app folder in the temp dir with these files (package.json as an object), removed after
 * the test.
 */
export function tempApp(files: Record<string, string | object>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sqlsandbox-init-'))
  made.push(dir)
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(
      join(dir, path),
      typeof content === 'string' ? content : JSON.stringify(content, null, 2),
    )
  }
  return dir
}

/** A package.json of an ESM TypeScript app with these dependencies. */
export function typescriptApp(...dependencies: string[]): object {
  return {
    type: 'module',
    dependencies: Object.fromEntries(dependencies.map((name) => [name, '*'])),
    devDependencies: { typescript: '*', vitest: '*' },
  }
}
