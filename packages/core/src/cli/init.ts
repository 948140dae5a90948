import { type AppProfile, detectApp } from './app-profile.js'
import type { InitOptions } from './init-options.js'
import { type PlannedFile, planFiles } from './planned-files.js'
import { writeNewFiles } from './write-new-files.js'

export interface InitResult {
  profile: AppProfile
  written: PlannedFile[]
}

/** `sqlsandbox init`: detects the app's ORM and database, then writes its test setup. */
export function runInit(options: InitOptions): InitResult {
  const profile = detectApp(options)
  const written = planFiles(profile)
  writeNewFiles(profile.cwd, written, options.force)
  return { profile, written }
}
