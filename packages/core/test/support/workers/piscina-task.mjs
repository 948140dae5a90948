// piscina's task module: loads the TypeScript task through tsx (Node 20 runs no TypeScript).
import { tsImport } from 'tsx/esm/api'

const { runTask } = await tsImport('./piscina-app.ts', import.meta.url)

export default runTask
