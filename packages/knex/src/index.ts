export { type KnexSandbox, sandboxKnexClient, sandboxKnexConfig } from './client.js'
export type { KnexClientClass } from './knex-dialects.js'
