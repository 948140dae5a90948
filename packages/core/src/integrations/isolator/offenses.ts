import { AsyncLocalStorage } from 'node:async_hooks'
import { openAppTransactions } from '../../transactions/open-transactions.js'
import { trackedTransactions } from '../../transactions/tracked-transactions.js'
import { sideEffectError } from './side-effect-error.js'
import type { SideEffect, SideEffectKind } from './side-effects.js'
import { captureStack, framesOf, locationOf } from './stacks.js'

export type IsolatorMode = 'raise' | 'warn' | 'off'

/** A side effect seen inside an app transaction, whatever the mode did with it. */
export interface Offense {
  readonly sideEffect: SideEffect
  readonly error: Error
}

/** What is allowed inside a transaction: nothing is reported for it. */
export interface Allowlist {
  /** Hostnames (exact, or a RegExp) HTTP requests and sockets may go to. */
  readonly hosts?: ReadonlyArray<string | RegExp>
  /** Kinds of side effect not watched at all. */
  readonly sideEffects?: readonly SideEffectKind[]
  /** Adapters (`nodemailer`, `bullmq`, a name given to `isolateMethod`) not watched. */
  readonly adapters?: readonly string[]
}

/**
 * Known legacy offenders, by kind: a `file` or `file:line` that a frame of the side effect, or of
 * the BEGIN of the transaction it happened in, must point at.
 */
export type TodoList = Partial<Record<SideEffectKind, readonly string[]>>

export interface OffensePolicy {
  readonly mode: IsolatorMode
  readonly allow: Allowlist
  readonly todo: TodoList
  onOffense?(offense: Offense): void
}

let policy: OffensePolicy | undefined
const ignoring = new AsyncLocalStorage<boolean>()

/** @internal Sets (or clears) the policy the detectors report by. */
export function setOffensePolicy(next: OffensePolicy | undefined): void {
  policy = next
  // An enabled AsyncLocalStorage costs every async resource: none once nobody looks.
  if (!next) ignoring.disable()
}

/**
 * Runs fn (and what it spawns) with the isolator looking away: a side effect known to be safe
 * inside a transaction, or a test that opts out.
 *
 * @example
 * await ignoreSideEffects(() => audit.log(order)) // an append-only log, safe to keep
 */
export function ignoreSideEffects<T>(fn: () => T): T {
  return ignoring.run(true, fn)
}

/**
 * @internal For detectors: whether a side effect now would be looked at (an isolator is on, this
 * context is not ignored, and it runs inside an app transaction: its owner's in a sandbox, or a
 * tracked one of its transaction scope). Costs no stack.
 */
export function isWatched(): boolean {
  const current = policy
  if (!current || current.mode === 'off' || ignoring.getStore()) return false
  return openAppTransactions().length > 0 || trackedTransactions().length > 0
}

/**
 * @internal For detectors, in the caller's async context: the error to stop the side effect
 * with, or undefined to let it go (no isolator, no open app transaction — sandboxed or tracked —,
 * allowed, or `warn`).
 * `startedAt`: the detector's own function, cut from the side effect's stack; or that stack,
 * captured before.
 */
export function offenseOf(
  effect: SideEffect,
  startedAt: ((...args: never[]) => unknown) | string,
): Error | undefined {
  const current = policy
  if (!current || current.mode === 'off' || ignoring.getStore()) return undefined
  const sandboxed = openAppTransactions()
  const tracked = trackedTransactions()
  if (sandboxed.length + tracked.length === 0 || isAllowed(current.allow, effect)) return undefined
  const open = [...sandboxed, ...tracked]
  const stack = typeof startedAt === 'string' ? startedAt : captureStack(startedAt)
  if (isTodo(current.todo, effect, [stack, ...open.map((tx) => tx.openedAt)])) return undefined
  const error = sideEffectError(effect, open, stack)
  current.onOffense?.({ sideEffect: effect, error })
  if (current.mode === 'warn') {
    process.emitWarning(error.message, { code: 'SQLSANDBOX_SIDE_EFFECT' })
    return undefined
  }
  return error
}

function isAllowed(allow: Allowlist, effect: SideEffect): boolean {
  if (allow.sideEffects?.includes(effect.kind)) return true
  if (effect.adapter !== undefined && allow.adapters?.includes(effect.adapter)) return true
  const host = effect.host
  if (host === undefined || !allow.hosts) return false
  return allow.hosts.some((allowed) =>
    typeof allowed === 'string' ? allowed === host : allowed.test(host),
  )
}

/** An entry names a frame of the side effect, or of the BEGIN of a transaction it happened in. */
function isTodo(
  todo: TodoList,
  effect: SideEffect,
  stacks: ReadonlyArray<string | undefined>,
): boolean {
  const entries = todo[effect.kind]
  if (!entries || entries.length === 0) return false
  const locations = stacks.flatMap((stack) => framesOf(stack).map(locationOf))
  return entries.some((entry) => locations.some((location) => matchesEntry(location, entry)))
}

/** `src/pay.ts` matches any line of the file; `src/pay.ts:20` that line (any column). */
function matchesEntry(location: string, entry: string): boolean {
  const at = location.indexOf(entry)
  if (at < 0) return false
  const after = location[at + entry.length]
  return after === undefined || after === ':'
}
