// Runs a TypeScript worker (thread or child) through tsx: node 20 loads no TypeScript by itself.
import { tsImport } from 'tsx/esm/api'

await tsImport(process.argv[2], import.meta.url)
