import type { AppProfile } from '../app-profile.js'

/** How one written module imports another in the same folder: TypeScript names it `.js`. */
export function siblingSpecifier(name: string, profile: AppProfile): string {
  return `./${name}${profile.extension === '.mjs' ? '.mjs' : '.js'}`
}
