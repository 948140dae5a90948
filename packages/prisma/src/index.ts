export { clientPerOwner, type OwnerLookup } from './client-per-owner.js'
export {
  isPrismaSandboxError,
  PrismaSandboxError,
  type PrismaSandboxErrorCode,
} from './errors.js'
export type { MysqlPool, MysqlPoolConnection } from './mysql-adapter.js'
export { mysql2PrismaAdapter } from './mysql2-prisma-adapter.js'
export type { PrismaPgOptions } from './postgres-adapter.js'
export {
  type PrismaSandboxOptions,
  prismaSandbox,
  sandboxedPrismaAdapter,
} from './prisma-sandbox.js'
