export {
  type KnexSandbox,
  sandboxedKnexClient,
  sandboxedKnexConfig,
  sandboxKnexClient,
  sandboxKnexConfig,
} from './client.js'
export type { KnexClientClass } from './knex-dialects.js'
