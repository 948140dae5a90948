// A second process preparing template databases, for the test of two runs starting at once:
// `node --import tsx template-builder.ts <url> <prefix> <version>` prints the result as JSON.
import { prepareTemplateDatabases } from '../../src/integrations/templates/index.js'
import { migrateItems, onDatabase, seedItems } from './template-builds.js'

const [url, prefix, version] = process.argv.slice(2) as [string, string, string]
const sleep = url.startsWith('postgres') ? 'select pg_sleep(0.3)' : 'select sleep(0.3)'
const prepared = await prepareTemplateDatabases({
  url,
  prefix,
  version,
  workers: 2,
  // A slow build, so that the other process arrives while this one holds the lock.
  migrate: async (target) => {
    await onDatabase(target.url, [sleep])
    await migrateItems(target)
  },
  seed: seedItems,
  lockTimeout: 20_000,
})
console.log(JSON.stringify(prepared))
