export * from '../support/pg-schema.js'
