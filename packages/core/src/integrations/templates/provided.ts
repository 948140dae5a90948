/** The key under which the globalSetup hands the workers their databases (vitest's provide/inject). */
export const PROVIDED_KEY = 'sqlsandboxTemplateDatabases'

/** What the globalSetup provides: each worker's database URL by its VITEST_POOL_ID. */
export interface ProvidedTemplates {
  fingerprint: string
  urls: Record<string, string>
}
