export type { ConnectionBudget } from '../../dialects/template-server.js'
export {
  type ConnectionDemand,
  checkConnectionBudget,
  connectionsNeeded,
} from './connection-budget.js'
export { templateFingerprint } from './fingerprint.js'
export type { PgCloneStrategy } from './open-server.js'
export {
  type BuildFunction,
  type PreparedDatabase,
  type PreparedTemplates,
  prepareTemplateDatabases,
  type TemplateOptions,
  type TemplateTarget,
} from './prepare.js'
export { reportTemplates } from './report.js'
export { checkServerConnections } from './server-connections.js'
export {
  type GlobalSetupProject,
  templateDatabases,
  type VitestTemplateOptions,
} from './vitest-setup.js'
