import { SandboxError } from '../../ownership/errors.js'
import { ignoreSideEffects, offenseOf } from './offenses.js'
import type { SideEffectKind } from './side-effects.js'

export interface IsolateMethodOptions {
  /** What the method does: 'job', 'mail', or any other kind. */
  sideEffect: SideEffectKind
  /** The adapter's name, for messages and `allow: { adapters }`. */
  adapter: string
  /** What the call is about to do, from its arguments: `job "charge" on queue payments`. */
  describe?(args: unknown[], self: unknown): string
  /**
   * How the method fails: 'throw' (the default) in the caller's stack; 'reject' returns a rejected
   * promise (an async method); 'callback' hands the error to a callback given as last argument,
   * and rejects when there is none (nodemailer's sendMail).
   */
  fails?: 'throw' | 'reject' | 'callback'
}

const wrapped = new WeakMap<object, Set<string>>()

/**
 * Isolator's `Isolator.isolate`: makes `target[method]` a side effect the isolator reports when
 * it is called inside an app transaction (nothing else changes outside one, or with no isolator
 * running). Wrap a prototype to cover every instance. Returns the undo.
 *
 * @example
 * import { Queue } from 'bullmq'
 * isolateMethod(Queue.prototype, 'add', { sideEffect: 'job', adapter: 'bullmq', fails: 'reject' })
 */
export function isolateMethod<T extends object>(
  target: T,
  method: keyof T & string,
  options: IsolateMethodOptions,
): () => void {
  const original = target[method] as unknown
  if (typeof original !== 'function') {
    throw new SandboxError(
      'INVALID_OPTION',
      `isolateMethod(…, '${method}'): the target has no method '${method}' (found ${typeof original}).`,
    )
  }
  const names = wrapped.get(target) ?? new Set<string>()
  if (names.has(method)) {
    throw new SandboxError(
      'INVALID_OPTION',
      `isolateMethod(…, '${method}'): '${method}' is isolated already; call the undo it returned first.`,
    )
  }
  names.add(method)
  wrapped.set(target, names)
  const call = original as (...args: unknown[]) => unknown
  const wrapper = function (this: unknown, ...args: unknown[]) {
    const description = options.describe?.(args, this) ?? `${options.adapter} ${method}()`
    const error = offenseOf(
      { kind: options.sideEffect, description, adapter: options.adapter },
      wrapper,
    )
    // Looked at once: what the call does on its way (the mail's SMTP socket) is part of it.
    if (!error) return ignoreSideEffects(() => call.apply(this, args))
    return fail(error, args, options.fails ?? 'throw')
  }
  Object.defineProperty(wrapper, 'name', { value: call.name })
  ;(target as Record<string, unknown>)[method] = wrapper
  return () => {
    if ((target as Record<string, unknown>)[method] === wrapper) {
      ;(target as Record<string, unknown>)[method] = original
    }
    names.delete(method)
  }
}

function fail(error: Error, args: unknown[], how: 'throw' | 'reject' | 'callback'): unknown {
  if (how === 'throw') throw error
  const callback = args.at(-1)
  if (how === 'callback' && typeof callback === 'function') {
    process.nextTick(() => callback(error))
    return undefined
  }
  return Promise.reject(error)
}
