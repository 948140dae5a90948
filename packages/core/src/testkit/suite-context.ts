import { randomUUID } from 'node:crypto'
import { afterAll, afterEach, beforeAll, expect } from 'vitest'
import type {
  ContractCell,
  ContractOps,
  ContractSandbox,
  ContractSandboxOptions,
  ContractSetup,
} from './cell.js'
import { type CommittedRows, committedRows } from './schema.js'

/** What every case of one cell's suite shares: set up once, read only by the cases. */
export interface SuiteContext {
  cell: ContractCell
  readonly sandbox: ContractSandbox
  readonly orm: ContractOps
  readonly committed: CommittedRows
  /** A fresh tag for a test's rows: none of them may ever be committed. */
  newTag(): string
  /** Another setup of the cell with other sandbox options, for one test; closed after fn. */
  withSetup<T>(
    options: ContractSandboxOptions,
    fn: (setup: ContractSetup) => Promise<T>,
  ): Promise<T>
}

/** Registers the suite's hooks (in the calling describe) and returns the context they fill. */
export function suiteContext(cell: ContractCell): SuiteContext {
  let setup: ContractSetup | undefined
  let committed: CommittedRows | undefined
  const pending: string[] = []
  const everyTag: string[] = []
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error(`${cell.name}: the suite’s beforeAll has not run`)
    return value
  }

  beforeAll(async () => {
    committed = committedRows(cell.dialect, cell.url)
    setup = await cell.setup()
  })
  afterEach(async () => {
    for (const tag of pending.splice(0)) {
      expect(await ready(committed).count(tag), `committed rows of ${tag}`).toBe(0)
    }
  })
  afterAll(async () => {
    try {
      // Again for every tag: a concurrent test's rows may have been checked while it still ran.
      for (const tag of everyTag) {
        expect(await ready(committed).count(tag), `committed rows of ${tag}`).toBe(0)
      }
    } finally {
      await setup?.close?.()
      await setup?.sandbox.close()
      await committed?.end()
    }
  })

  return {
    cell,
    get sandbox() {
      return ready(setup).sandbox
    },
    get orm() {
      return ready(setup).orm
    },
    get committed() {
      return ready(committed)
    },
    newTag() {
      const tag = randomUUID().slice(0, 12)
      pending.push(tag)
      everyTag.push(tag)
      return tag
    },
    async withSetup(options, fn) {
      const other = await cell.setup(options)
      try {
        return await fn(other)
      } finally {
        await other.close?.()
        await other.sandbox.close()
      }
    },
  }
}
