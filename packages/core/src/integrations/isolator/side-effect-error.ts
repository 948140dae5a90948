import { docs, SandboxError } from '../../ownership/errors.js'
import type { OpenAppTransaction } from '../../transactions/open-transactions.js'
import type { TrackedTransaction } from '../../transactions/tracked-transactions.js'
import { ATTEMPTS, type SideEffect } from './side-effects.js'
import { appFrames } from './stacks.js'

/**
 * Isolator's error, with what Node can add: the side effect, where the app transaction it
 * happened in was opened (its BEGIN's stack), where the side effect was started, and the ways out.
 */
export function sideEffectError(
  effect: SideEffect,
  open: ReadonlyArray<OpenAppTransaction | TrackedTransaction>,
  startedAt: string,
): SandboxError {
  const tx = open.at(-1)
  const opened = tx ? openedAtText(tx) : ''
  const started = appFrames(startedAt)
  const fix =
    effect.kind === 'cross-database'
      ? 'Commit the first transaction before opening the second, or make one of them the only ' +
        'writer (production cannot commit both atomically: one may commit while the other rolls back).'
      : "Move it after the transaction's commit, or run it in `afterCommit(() => …)` from " +
        "'@sqlsandbox/core' (it runs when the transaction commits, never when it rolls back)."
  return new SandboxError(
    'SIDE_EFFECT_IN_TRANSACTION',
    `You are trying to ${ATTEMPTS[effect.kind]} inside a database transaction: ${effect.description}. ` +
      'In production that transaction may still roll back after this has happened (the charge ' +
      'made, the email sent, the job run against rows that were never committed). ' +
      `${fix} If it is safe, allow it: isolate({ allow: { ${allowHint(effect)} } }), or ` +
      `ignoreSideEffects(() => …) around it. ${docs('fixing-an-offense')}` +
      `\nThe transaction was opened ${opened}` +
      (started.length > 0 ? `\nThe side effect started at:\n    ${started.join('\n    ')}` : ''),
  )
}

function openedAtText(tx: OpenAppTransaction | TrackedTransaction): string {
  const where =
    'owner' in tx
      ? `on sandbox "${tx.sandbox}" by ${tx.owner.describe()}`
      : `on pool "${tx.pool}" (tracked, no sandbox)`
  const frames = appFrames(tx.openedAt)
  return frames.length > 0 ? `${where}, at:\n    ${frames.join('\n    ')}` : `${where}.`
}

function allowHint(effect: SideEffect): string {
  if (effect.host !== undefined) return `hosts: ['${effect.host}']`
  if (effect.adapter !== undefined) return `adapters: ['${effect.adapter}']`
  return `sideEffects: ['${effect.kind}']`
}
